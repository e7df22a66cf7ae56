-- Builds the table `ev` that features.sql reads, from the raw text tables features_bench.sh imported with
-- the sqlite3 shell (.import --csv: logins_raw, account_raw, promo_raw, every column TEXT as in the file).
-- Not timed: the bench reports it as the load time, apart from the query.
--
-- Conversions follow gyre's CSV reader: an empty field is NULL; `time` (ISO 8601 UTC with Z and 0 to 6
-- fraction digits, as datagen writes) becomes integer microseconds; success true/false becomes 1/0.
-- The last statement prints `bad_times|null_keys`: times of another shape and rows without a user, ip or
-- device (whose keys gyre and SQL might treat differently); the bench refuses to go on unless both are 0.
CREATE TABLE ev (
  src INTEGER NOT NULL,  -- 0 login, 1 account event, 2 promo redemption
  event_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,   -- microseconds since 1970-01-01 UTC
  user_id TEXT,
  ip TEXT,
  device_id TEXT,
  country TEXT,
  asn INTEGER,
  success INTEGER,
  event_type TEXT,
  amount REAL
);

INSERT INTO ev
SELECT 0, CAST(event_id AS INTEGER),
       unixepoch(substr(time, 1, 19)) * 1000000 +
         CASE WHEN length(time) > 20 THEN CAST(substr(substr(time, 21, length(time) - 21) || '000000', 1, 6) AS INTEGER)
              ELSE 0 END,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), CAST(NULLIF(asn, '') AS INTEGER),
       CASE success WHEN 'true' THEN 1 WHEN 'false' THEN 0 END, NULL, NULL
FROM logins_raw;

INSERT INTO ev
SELECT 1, CAST(event_id AS INTEGER),
       unixepoch(substr(time, 1, 19)) * 1000000 +
         CASE WHEN length(time) > 20 THEN CAST(substr(substr(time, 21, length(time) - 21) || '000000', 1, 6) AS INTEGER)
              ELSE 0 END,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), CAST(NULLIF(asn, '') AS INTEGER),
       NULL, NULLIF(event_type, ''), NULL
FROM account_raw;

INSERT INTO ev
SELECT 2, CAST(event_id AS INTEGER),
       unixepoch(substr(time, 1, 19)) * 1000000 +
         CASE WHEN length(time) > 20 THEN CAST(substr(substr(time, 21, length(time) - 21) || '000000', 1, 6) AS INTEGER)
              ELSE 0 END,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), CAST(NULLIF(asn, '') AS INTEGER),
       NULL, NULL, CAST(NULLIF(amount, '') AS REAL)
FROM promo_raw;

SELECT
  (SELECT count(*) FROM (SELECT time FROM logins_raw UNION ALL SELECT time FROM account_raw
                         UNION ALL SELECT time FROM promo_raw)
   WHERE NOT (time GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'
              OR (time GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*Z'
                  AND length(time) <= 27 AND substr(time, 21, length(time) - 21) NOT GLOB '*[^0-9]*'))),
  (SELECT count(*) FROM ev WHERE user_id IS NULL OR ip IS NULL OR device_id IS NULL);
