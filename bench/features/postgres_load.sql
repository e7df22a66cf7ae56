-- Builds the table `ev` that features.sql reads (PostgreSQL), from the raw text tables features_bench.sh
-- filled with psql's \copy (logins_raw, account_raw, promo_raw: every column text, as in the file). Not
-- timed: the bench reports it as the load time, apart from the query. Same conversions as sqlite_load.sql:
-- an empty field is NULL, `time` (ISO 8601 UTC with Z) becomes integer microseconds (EXTRACT gives an exact
-- numeric), success true/false becomes a boolean. The last statement prints `bad_times|null_keys`; the
-- bench refuses to go on unless both are 0.
DROP TABLE IF EXISTS ev, feat;
CREATE UNLOGGED TABLE ev (
  src integer NOT NULL,  -- 0 login, 1 account event, 2 promo redemption
  event_id bigint NOT NULL,
  ts bigint NOT NULL,    -- microseconds since 1970-01-01 UTC
  user_id text,
  ip text,
  device_id text,
  country text,
  asn integer,
  success boolean,
  event_type text,
  amount double precision
);

INSERT INTO ev
SELECT 0, event_id::bigint, (EXTRACT(EPOCH FROM "time"::timestamptz) * 1000000)::bigint,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), NULLIF(asn, '')::integer,
       CASE success WHEN 'true' THEN true WHEN 'false' THEN false END, NULL, NULL
FROM logins_raw;

INSERT INTO ev
SELECT 1, event_id::bigint, (EXTRACT(EPOCH FROM "time"::timestamptz) * 1000000)::bigint,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), NULLIF(asn, '')::integer,
       NULL, NULLIF(event_type, ''), NULL
FROM account_raw;

INSERT INTO ev
SELECT 2, event_id::bigint, (EXTRACT(EPOCH FROM "time"::timestamptz) * 1000000)::bigint,
       NULLIF(user_id, ''), NULLIF(ip, ''), NULLIF(device_id, ''), NULLIF(country, ''), NULLIF(asn, '')::integer,
       NULL, NULL, NULLIF(amount, '')::double precision
FROM promo_raw;

ANALYZE ev;

SELECT
  (SELECT count(*) FROM (SELECT "time" FROM logins_raw UNION ALL SELECT "time" FROM account_raw
                         UNION ALL SELECT "time" FROM promo_raw) AS t
   WHERE "time" !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$'),
  (SELECT count(*) FROM ev WHERE user_id IS NULL OR ip IS NULL OR device_id IS NULL);
