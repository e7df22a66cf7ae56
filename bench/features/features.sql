-- The features of bench_features.yaml (set bench_login) as window-function SQL: one SELECT that SQLite 3.40
-- and PostgreSQL 15 both run unchanged. features_bench.sh wraps it in CREATE TABLE feat AS ... (the timed
-- part) after sqlite_load.sql / postgres_load.sql built the table `ev`:
--   ev(src, event_id, ts, user_id, ip, device_id, country, asn, success, event_type, amount)
-- with the three sources in one table (src 0 = login, 1 = account event, 2 = promo redemption) and ts in
-- integer microseconds since the epoch, UTC. One row per login comes out, in event_id (= file) order.
--
-- How gyre's semantics (src/features/key_state.h) map to SQL:
-- - A window w of an event at t is [t - w, t): RANGE BETWEEN w PRECEDING AND 1 PRECEDING on the integer
--   microsecond column. `1 PRECEDING` is what keeps events at the very same microsecond from seeing each
--   other (CURRENT ROW would let them).
-- - lifetime: RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING.
-- - A group over another source (account events, promo redemptions) is the same window over the combined
--   table, its aggregates FILTERed to that source; the login rows are the queries.
-- - count of an empty window is 0; sum is 0; ratio, mean, stddev (under two values), time_since_last and
--   first_seen are null. is_new is 1 when the login's own value did not occur for the user within the
--   horizon, null when the login's value is null.
-- - Means and stddevs come from integer sums (hour of day is an integer), so both engines divide exact
--   integers once, as gyre does from its fixed-point sums: stddev = sqrt((n*q - s*s) / (n*(n - 1))).
-- - Seconds are CAST(micros AS DOUBLE PRECISION) / 1000000: a double division in both engines (a plain
--   1e6 would be NUMERIC in PostgreSQL).
-- Portable spellings: CASE instead of max()/GREATEST, FILTER on every window aggregate (SQLite >= 3.30).
SELECT
  event_id, ts, user_id, ip, device_id,
  user_failed_logins_10m, user_failed_logins_1h, user_failed_logins_1d, user_logins_1d, user_logins_1w,
  CASE WHEN device_id IS NULL THEN NULL WHEN same_device_90d = 0 THEN 1 ELSE 0 END AS user_new_device,
  CASE WHEN country IS NULL THEN NULL WHEN same_country_90d = 0 THEN 1 ELSE 0 END AS user_new_country,
  CASE WHEN asn IS NULL THEN NULL WHEN same_asn_90d = 0 THEN 1 ELSE 0 END AS user_new_asn,
  CAST(ts - last_success_ts AS DOUBLE PRECISION) / 1000000 AS user_secs_since_success,
  hour_mean AS user_login_hour_mean_30d,
  hour_sd AS user_login_hour_stddev_30d,
  CAST(ts - first_login_ts AS DOUBLE PRECISION) / 1000000 AS user_seen_for,
  CAST(ts - last_credential_ts AS DOUBLE PRECISION) / 1000000 AS user_secs_since_credential_change,
  user_payees_added_1d,
  ip_attempts_10m, ip_attempts_1h, ip_attempts_1d,
  CASE WHEN ip_attempts_1h = 0 THEN NULL ELSE CAST(ip_failed_1h AS DOUBLE PRECISION) / ip_attempts_1h END
    AS ip_failure_ratio_1h,
  CASE WHEN ip_attempts_1d = 0 THEN NULL ELSE CAST(ip_failed_1d AS DOUBLE PRECISION) / ip_attempts_1d END
    AS ip_failure_ratio_1d,
  ip_signups_1w, device_failed_logins_1h, device_redemptions_30d, device_promo_amount_30d,
  hour AS login_hour,
  abs(hour - hour_mean) / CASE WHEN hour_sd > 1 THEN hour_sd ELSE 1 END AS hour_unusual
FROM (
  SELECT *,
    CASE WHEN hour_n = 0 THEN NULL ELSE CAST(hour_s AS DOUBLE PRECISION) / hour_n END AS hour_mean,
    CASE WHEN hour_n < 2 THEN NULL
         ELSE sqrt(CAST(hour_n * hour_q - hour_s * hour_s AS DOUBLE PRECISION) / (hour_n * (hour_n - 1))) END
      AS hour_sd
  FROM (
    SELECT
      src, event_id, ts, user_id, ip, device_id, country, asn,
      CAST((ts / 3600000000) % 24 AS INTEGER) AS hour,
      -- user over logins
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER user_10m AS user_failed_logins_10m,
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER user_1h AS user_failed_logins_1h,
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER user_1d AS user_failed_logins_1d,
      COUNT(*) FILTER (WHERE src = 0) OVER user_1d AS user_logins_1d,
      COUNT(*) FILTER (WHERE src = 0) OVER user_1w AS user_logins_1w,
      COUNT(*) FILTER (WHERE src = 0) OVER user_device_90d AS same_device_90d,
      COUNT(*) FILTER (WHERE src = 0) OVER user_country_90d AS same_country_90d,
      COUNT(*) FILTER (WHERE src = 0) OVER user_asn_90d AS same_asn_90d,
      MAX(ts) FILTER (WHERE src = 0 AND success) OVER user_lifetime AS last_success_ts,
      MIN(ts) FILTER (WHERE src = 0) OVER user_lifetime AS first_login_ts,
      COUNT(*) FILTER (WHERE src = 0 AND success) OVER user_30d AS hour_n,
      SUM(CAST((ts / 3600000000) % 24 AS INTEGER)) FILTER (WHERE src = 0 AND success) OVER user_30d AS hour_s,
      SUM(CAST((ts / 3600000000) % 24 AS INTEGER) * CAST((ts / 3600000000) % 24 AS INTEGER))
        FILTER (WHERE src = 0 AND success) OVER user_30d AS hour_q,
      -- user over account events
      MAX(ts) FILTER (WHERE src = 1 AND event_type IN ('password_change', 'email_change', 'phone_change',
                                                       'mfa_enabled')) OVER user_lifetime AS last_credential_ts,
      COUNT(*) FILTER (WHERE src = 1 AND event_type = 'payee_added') OVER user_1d AS user_payees_added_1d,
      -- ip over logins and account events
      COUNT(*) FILTER (WHERE src = 0) OVER ip_10m AS ip_attempts_10m,
      COUNT(*) FILTER (WHERE src = 0) OVER ip_1h AS ip_attempts_1h,
      COUNT(*) FILTER (WHERE src = 0) OVER ip_1d AS ip_attempts_1d,
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER ip_1h AS ip_failed_1h,
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER ip_1d AS ip_failed_1d,
      COUNT(*) FILTER (WHERE src = 1 AND event_type = 'signup') OVER ip_1w AS ip_signups_1w,
      -- device over logins and promo redemptions
      COUNT(*) FILTER (WHERE src = 0 AND NOT success) OVER device_1h AS device_failed_logins_1h,
      COUNT(*) FILTER (WHERE src = 2) OVER device_30d AS device_redemptions_30d,
      COALESCE(SUM(amount) FILTER (WHERE src = 2) OVER device_30d, 0) AS device_promo_amount_30d
    FROM ev
    WINDOW
      user_10m AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN 600000000 PRECEDING AND 1 PRECEDING),
      user_1h AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN 3600000000 PRECEDING AND 1 PRECEDING),
      user_1d AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN 86400000000 PRECEDING AND 1 PRECEDING),
      user_1w AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN 604800000000 PRECEDING AND 1 PRECEDING),
      user_30d AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN 2592000000000 PRECEDING AND 1 PRECEDING),
      user_lifetime AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      user_device_90d AS (PARTITION BY user_id, device_id ORDER BY ts
                          RANGE BETWEEN 7776000000000 PRECEDING AND 1 PRECEDING),
      user_country_90d AS (PARTITION BY user_id, country ORDER BY ts
                           RANGE BETWEEN 7776000000000 PRECEDING AND 1 PRECEDING),
      user_asn_90d AS (PARTITION BY user_id, asn ORDER BY ts RANGE BETWEEN 7776000000000 PRECEDING AND 1 PRECEDING),
      ip_10m AS (PARTITION BY ip ORDER BY ts RANGE BETWEEN 600000000 PRECEDING AND 1 PRECEDING),
      ip_1h AS (PARTITION BY ip ORDER BY ts RANGE BETWEEN 3600000000 PRECEDING AND 1 PRECEDING),
      ip_1d AS (PARTITION BY ip ORDER BY ts RANGE BETWEEN 86400000000 PRECEDING AND 1 PRECEDING),
      ip_1w AS (PARTITION BY ip ORDER BY ts RANGE BETWEEN 604800000000 PRECEDING AND 1 PRECEDING),
      device_1h AS (PARTITION BY device_id ORDER BY ts RANGE BETWEEN 3600000000 PRECEDING AND 1 PRECEDING),
      device_30d AS (PARTITION BY device_id ORDER BY ts RANGE BETWEEN 2592000000000 PRECEDING AND 1 PRECEDING)
  ) AS windowed
  WHERE src = 0
) AS logins
ORDER BY event_id
