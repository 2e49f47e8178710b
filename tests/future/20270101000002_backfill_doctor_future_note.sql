-- kind: schema
-- transaction: true
-- A long backfill: every point is rewritten with a value that costs 400 md5 calls to compute (about
-- two seconds on 3,000 points), then a short sleep so a watcher sees the migration running.
UPDATE points
   SET doctor_future_note = (
         SELECT md5(string_agg(md5(points.id::text || ':' || points."timestamp"::text || ':' || g::text), '' ORDER BY g))
           FROM generate_series(1, 400) AS g
       )
 WHERE doctor_future_note IS NULL
;
SELECT pg_sleep(0.5)
