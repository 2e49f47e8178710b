-- version: 20260113230537
-- name: set_points_timestamp_from_geojson_date
-- kind: schema
-- release: 1.0.1
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- env: TIME_ZONE (Rails Time.zone): a date without a UTC offset is read as local time in this zone (an IANA zone name), read from dawarich_doctor.time_zone, which the runner sets from the plan's time zone (--time-zone, else TIME_ZONE of the .env or the app container, else Europe/London, the stock compose default).
-- note: The Ruby walks Point.where(timestamp: nil), parses raw_data.properties.date with Time.zone.parse and calls point.update!(timestamp:) row by row, inside the migration transaction: one row that fails the Point validations (owner missing or soft-deleted, lonlat missing, same lonlat+timestamp+user already present), or a date Ruby cannot turn into a time (nil -> NoMethodError, a non-string -> TypeError), aborts the whole migration; only ArgumentError (e.g. month 13) is logged and skipped.
-- note: Here it is one set-based UPDATE of the rows that would pass: date read as ISO-8601 (YYYY-MM-DD, optional T/space time hh:mm[:ss[.fraction]], optional Z/UTC/+hh[:mm] offset), seconds since the epoch rounded down like Time#to_i, updated_at set as update! does.
-- note: Rows Ruby would have tried but that are left with timestamp NULL are not skipped silently: each reason is reported with RAISE WARNING (count and first ids) and the rows stay untouched for the user or the repair step: date not a string; date not in an ISO-8601 form this reads, or not a real calendar date (Ruby's parser also accepts other free-form dates; Ruby skips impossible dates); owner missing or soft-deleted; lonlat missing; epoch out of the integer column's range; another point of the same user already has that lonlat and timestamp (within this batch the lowest id wins, as in Ruby's id order).
-- note: raw_data or properties that are not JSON objects are left alone (Ruby would skip most and raise on an array).
-- note: The work table is a TEMP table dropped at commit, so the file relies on transaction: true; the warnings are PostgreSQL notices the runner has to surface.
CREATE TEMP TABLE dawarich_doctor_geojson_dates ON COMMIT DROP AS
WITH src AS (
  SELECT p.id, p.user_id, p.lonlat, p.raw_data->'properties'->'date' AS d
  FROM points p
  WHERE p."timestamp" IS NULL
    AND jsonb_typeof(p.raw_data) = 'object'
    AND jsonb_typeof(p.raw_data->'properties') = 'object'
    AND p.raw_data->'properties'->'date' NOT IN ('null'::jsonb, 'false'::jsonb)
), matched AS (
  SELECT src.*,
         CASE WHEN jsonb_typeof(d) = 'string' THEN
           regexp_match(d #>> '{}',
             '^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})([.,][0-9]+)?)?)?\s*(Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?\s*$', 'i')
         END AS r
  FROM src
), parts AS (
  SELECT matched.*,
         r[1]::int AS y, r[2]::int AS mo, r[3]::int AS dd,
         COALESCE(r[4], '0')::int AS hh, COALESCE(r[5], '0')::int AS mi, COALESCE(r[6], '0')::int AS ss,
         COALESCE(replace(r[7], ',', '.'), '0')::numeric AS frac,
         CASE WHEN r[8] IS NULL THEN NULL
              WHEN upper(r[8]) IN ('Z', 'UTC') THEN 0
              ELSE (CASE WHEN left(r[8], 1) = '-' THEN -1 ELSE 1 END)
                   * (substr(r[8], 2, 2)::int * 3600
                      + COALESCE(NULLIF(substr(replace(r[8], ':', ''), 4, 2), ''), '0')::int * 60)
         END AS off
  FROM matched
), checked AS (
  SELECT parts.*,
         CASE WHEN r IS NULL THEN false
              WHEN y < 1 OR mo NOT BETWEEN 1 AND 12 OR dd < 1 OR hh > 23 OR mi > 59 OR ss > 59 THEN false
              ELSE dd <= extract(day FROM make_date(y, mo, 1) + interval '1 month' - interval '1 day')
         END AS readable
  FROM parts
), stamped AS (
  SELECT checked.*,
         CASE WHEN readable THEN floor(
           CASE WHEN off IS NULL
                THEN extract(epoch FROM make_timestamp(y, mo, dd, hh, mi, (ss + frac)::double precision)
                                        AT TIME ZONE COALESCE(NULLIF(current_setting('dawarich_doctor.time_zone', true), ''), 'Europe/London'))
                ELSE extract(epoch FROM make_timestamp(y, mo, dd, hh, mi, (ss + frac)::double precision)) - off
           END)
         END AS ts
  FROM checked
), judged AS (
  SELECT s.id, s.user_id, s.lonlat, s.ts,
         CASE WHEN jsonb_typeof(s.d) <> 'string' THEN 'properties.date is not a string'
              WHEN NOT s.readable THEN 'properties.date is not an ISO-8601 date/time this tool reads, or not a real calendar date'
              WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.deleted_at IS NULL)
                THEN 'owner missing or soft-deleted (Point belongs_to :user)'
              WHEN s.lonlat IS NULL THEN 'lonlat missing'
              WHEN s.ts NOT BETWEEN -2147483648 AND 2147483647 THEN 'epoch out of the integer range of points.timestamp'
              WHEN EXISTS (SELECT 1 FROM points q
                           WHERE q.lonlat = s.lonlat AND q."timestamp" = s.ts AND q.user_id = s.user_id AND q.id <> s.id)
                THEN 'another point of this user already has this lonlat and timestamp'
         END AS problem
  FROM stamped s
)
SELECT j.id, j.ts,
       CASE WHEN j.problem IS NULL
             AND row_number() OVER (PARTITION BY j.problem IS NULL, j.user_id, j.ts, j.lonlat ORDER BY j.id) > 1
            THEN 'another point of this user gets the same lonlat and timestamp (lower id kept)'
            ELSE j.problem
       END AS problem
FROM judged j;
UPDATE points p
SET "timestamp" = g.ts::integer,
    updated_at = (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')
FROM dawarich_doctor_geojson_dates g
WHERE p.id = g.id
  AND g.problem IS NULL
  AND p."timestamp" IS NULL;
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT problem, count(*) AS n, (array_agg(id ORDER BY id))[1:20] AS ids
    FROM dawarich_doctor_geojson_dates
    WHERE problem IS NOT NULL
    GROUP BY problem
    ORDER BY problem
  LOOP
    RAISE WARNING '20260113230537: % point(s) keep timestamp NULL: %; first ids: %', r.n, r.problem, r.ids;
  END LOOP;
END
$$;
