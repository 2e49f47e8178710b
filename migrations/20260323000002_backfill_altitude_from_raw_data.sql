-- version: 20260323000002
-- name: backfill_altitude_from_raw_data
-- kind: schema
-- release: 1.5.0
-- transaction: true
-- changes-data: true
-- needs: 20250821192219, 20260108192905
-- job: DataMigrations::BackfillAltitudeJob -> DataMigrations::BackfillAltitudeUserJob per user with points_count > 0 (not soft-deleted). Part 1, points whose raw_data is still in the table: Points::AltitudeExtractor (first of alt; properties.altitude or geometry.coordinates[2] when present; altitudeMeters; ele; altitude; each read with Ruby to_f) written to altitude (truncated to integer) and altitude_decimal (rounded to 2 places), skipped when the integer altitude already equals the value; upsert_all touches updated_at. Done here in SQL: the batched UPDATE below.
-- job: Part 2, points whose raw_data was moved into points_raw_data_archives files (ActiveStorage, gzip, maybe encrypted): needs the files, not done here; the follow-up matters only when points_raw_data_archives has rows.
-- follow-up: User.where("points_count > 0").where(id: Points::RawDataArchive.select(:user_id)).find_each { |u| DataMigrations::BackfillAltitudeUserJob.perform_later(u.id) }
-- follow-up-when: EXISTS (SELECT 1 FROM points_raw_data_archives)
-- note: The Ruby migration only enqueues the job (the backfill ran later in Sidekiq, outside the migration transaction); here the backfill runs in the job phase, after every data migration, as a batched statement, each range committing on its own, and it is the file's only statement.
-- note: Values on which the Ruby job would raise and stop for that user (true/false, arrays or objects where a number is expected, properties/geometry/coordinates of the wrong JSON type, a value beyond numeric(10,2)) are skipped here instead. Ruby String#to_f is read as a leading decimal number (digit underscores not handled; a non-number string gives 0, and a JSON null under a present key gives 0, as in Ruby).
-- note: Rows whose altitude and altitude_decimal already hold the computed values are skipped too (the Ruby upsert would change nothing on them), so a rerun converges.

-- phase: job
-- batch: points.id
-- fuse: points-rewrite
-- skip-when: NOT EXISTS (SELECT 1 FROM users WHERE points_count > 0 AND deleted_at IS NULL) -- no user (not deleted) has points_count above 0
WITH src AS (
  SELECT p.id, p.altitude, p.altitude_decimal, p.raw_data AS r,
         CASE WHEN jsonb_typeof(p.raw_data->'properties') = 'object'
              THEN p.raw_data->'properties'->'altitude' END AS prop_alt,
         CASE WHEN jsonb_typeof(p.raw_data->'geometry') = 'object'
               AND jsonb_typeof(p.raw_data->'geometry'->'coordinates') = 'array'
              THEN p.raw_data->'geometry'->'coordinates'->2 END AS geom_alt
  FROM points p
  WHERE p.id >= $1 AND p.id < $2
    AND p.raw_data <> '{}'
    AND jsonb_typeof(p.raw_data) = 'object'
    AND p.user_id IN (SELECT u.id FROM users u WHERE u.points_count > 0 AND u.deleted_at IS NULL)
), present AS (
  SELECT src.*,
         (prop_alt IS NOT NULL AND prop_alt NOT IN ('null', 'false', '[]', '{}')
          AND NOT (jsonb_typeof(prop_alt) = 'string' AND (prop_alt #>> '{}') ~ '^\s*$')) AS prop_present,
         (geom_alt IS NOT NULL AND geom_alt NOT IN ('null', 'false', '[]', '{}')
          AND NOT (jsonb_typeof(geom_alt) = 'string' AND (geom_alt #>> '{}') ~ '^\s*$')) AS geom_present
  FROM src
), picked AS (
  SELECT id, altitude, altitude_decimal,
         CASE WHEN r ? 'alt' THEN r->'alt'
              WHEN r ? 'properties' AND prop_present THEN prop_alt
              WHEN r ? 'properties' AND geom_present THEN geom_alt
              WHEN r ? 'altitudeMeters' THEN r->'altitudeMeters'
              WHEN r ? 'ele' THEN r->'ele'
              WHEN r ? 'altitude' THEN r->'altitude'
         END AS v
  FROM present
), num AS (
  SELECT id, altitude, altitude_decimal,
         CASE jsonb_typeof(v)
           WHEN 'number' THEN (v #>> '{}')::numeric
           WHEN 'null' THEN 0
           WHEN 'string' THEN COALESCE(
             substring(v #>> '{}' FROM '^\s*([-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?)')::numeric, 0)
         END AS n
  FROM picked
  WHERE v IS NOT NULL
), computed AS (
  SELECT id, altitude, altitude_decimal, n::double precision AS f
  FROM num
  WHERE n IS NOT NULL AND abs(n) < 99999999.995
), target AS (
  SELECT id, altitude, altitude_decimal, f,
         trunc(f)::integer AS new_altitude,
         round(f::numeric, 2) AS new_decimal
  FROM computed
)
UPDATE points p
SET altitude = t.new_altitude,
    altitude_decimal = t.new_decimal,
    updated_at = (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')
FROM target t
WHERE p.id = t.id
  AND NOT (t.altitude IS NOT NULL AND t.altitude::numeric = t.f::numeric)
  AND NOT (t.altitude IS NOT DISTINCT FROM t.new_altitude AND t.altitude_decimal IS NOT DISTINCT FROM t.new_decimal);
