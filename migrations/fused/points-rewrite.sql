-- fuse: points-rewrite
-- note: The job work of 20260217000001 backfill_motion_data_from_raw_data, 20260323000002 backfill_altitude_from_raw_data, 20241202125248 set_reverse_geocoded_at_for_points and 20250222213848 migrate_points_latlon in one UPDATE per range: each point gets what those of them that walk ($3) would write one after another (none reads a column another writes), in one new row version instead of one per job. The conditions and values are their statements' own.
-- note: Every condition is read from the statement's snapshot (as 20260323000002's own statement does): with no other writer on these rows the same rows change as with the statements one after another.

WITH m_src AS (
  SELECT p.id,
         p.raw_data AS r,
         CASE WHEN jsonb_typeof(p.raw_data->'properties') = 'object' THEN p.raw_data->'properties' END AS pr,
         CASE WHEN jsonb_typeof(p.raw_data->'waypointPath') = 'object' THEN p.raw_data->'waypointPath'->'travelMode' END AS tm
  FROM points p
  WHERE '20260217000001' = ANY($3::text[])
    AND p.id >= $1 AND p.id < $2
    AND p.motion_data = '{}'
    AND p.raw_data <> '{}'
    AND jsonb_typeof(p.raw_data) = 'object'
), m_ext AS (
  SELECT id,
         CASE WHEN pr->'motion' NOT IN ('null', 'false') THEN jsonb_build_object('motion', pr->'motion') ELSE '{}' END
         || CASE WHEN pr->'activity' NOT IN ('null', 'false') THEN jsonb_build_object('activity', pr->'activity') ELSE '{}' END
         || CASE WHEN pr->'action' NOT IN ('null', 'false') THEN jsonb_build_object('action', pr->'action') ELSE '{}' END
           AS overland,
         CASE WHEN r->'activity' NOT IN ('null', 'false') THEN jsonb_build_object('activity', r->'activity') ELSE '{}' END
         || CASE WHEN r->'activityRecord' NOT IN ('null', 'false') THEN jsonb_build_object('activityRecord', r->'activityRecord') ELSE '{}' END
         || CASE WHEN r->'activities' NOT IN ('null', 'false') THEN jsonb_build_object('activities', r->'activities') ELSE '{}' END
         || CASE WHEN r->'activityType' NOT IN ('null', 'false') THEN jsonb_build_object('activityType', r->'activityType') ELSE '{}' END
         || CASE WHEN tm NOT IN ('null', 'false') THEN jsonb_build_object('travelMode', tm) ELSE '{}' END
           AS google,
         CASE WHEN r->'m' NOT IN ('null', 'false')
              THEN jsonb_build_object('m', r->'m')
                   || CASE WHEN r->'_type' NOT IN ('null', 'false') THEN jsonb_build_object('_type', r->'_type') ELSE '{}' END
              ELSE '{}'
         END AS owntracks
  FROM m_src
), m_changes AS (
  SELECT id,
         CASE WHEN overland <> '{}' THEN overland
              WHEN google <> '{}' THEN google
              ELSE owntracks END AS new_motion
  FROM m_ext
  WHERE overland <> '{}' OR google <> '{}' OR owntracks <> '{}'
), a_src AS (
  SELECT p.id, p.altitude, p.altitude_decimal, p.raw_data AS r,
         CASE WHEN jsonb_typeof(p.raw_data->'properties') = 'object'
              THEN p.raw_data->'properties'->'altitude' END AS prop_alt,
         CASE WHEN jsonb_typeof(p.raw_data->'geometry') = 'object'
               AND jsonb_typeof(p.raw_data->'geometry'->'coordinates') = 'array'
              THEN p.raw_data->'geometry'->'coordinates'->2 END AS geom_alt
  FROM points p
  WHERE '20260323000002' = ANY($3::text[])
    AND p.id >= $1 AND p.id < $2
    AND p.raw_data <> '{}'
    AND jsonb_typeof(p.raw_data) = 'object'
    AND p.user_id IN (SELECT u.id FROM users u WHERE u.points_count > 0 AND u.deleted_at IS NULL)
), a_present AS (
  SELECT a_src.*,
         (prop_alt IS NOT NULL AND prop_alt NOT IN ('null', 'false', '[]', '{}')
          AND NOT (jsonb_typeof(prop_alt) = 'string' AND (prop_alt #>> '{}') ~ '^\s*$')) AS prop_present,
         (geom_alt IS NOT NULL AND geom_alt NOT IN ('null', 'false', '[]', '{}')
          AND NOT (jsonb_typeof(geom_alt) = 'string' AND (geom_alt #>> '{}') ~ '^\s*$')) AS geom_present
  FROM a_src
), a_picked AS (
  SELECT id, altitude, altitude_decimal,
         CASE WHEN r ? 'alt' THEN r->'alt'
              WHEN r ? 'properties' AND prop_present THEN prop_alt
              WHEN r ? 'properties' AND geom_present THEN geom_alt
              WHEN r ? 'altitudeMeters' THEN r->'altitudeMeters'
              WHEN r ? 'ele' THEN r->'ele'
              WHEN r ? 'altitude' THEN r->'altitude'
         END AS v
  FROM a_present
), a_num AS (
  SELECT id, altitude, altitude_decimal,
         CASE jsonb_typeof(v)
           WHEN 'number' THEN (v #>> '{}')::numeric
           WHEN 'null' THEN 0
           WHEN 'string' THEN COALESCE(
             substring(v #>> '{}' FROM '^\s*([-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?)')::numeric, 0)
         END AS n
  FROM a_picked
  WHERE v IS NOT NULL
), a_computed AS (
  SELECT id, altitude, altitude_decimal, n::double precision AS f
  FROM a_num
  WHERE n IS NOT NULL AND abs(n) < 99999999.995
), a_target AS (
  SELECT id, altitude, altitude_decimal, f,
         trunc(f)::integer AS new_altitude,
         round(f::numeric, 2) AS new_decimal
  FROM a_computed
), a_changes AS (
  SELECT t.id, t.new_altitude, t.new_decimal
  FROM a_target t
  WHERE NOT (t.altitude IS NOT NULL AND t.altitude::numeric = t.f::numeric)
    AND NOT (t.altitude IS NOT DISTINCT FROM t.new_altitude AND t.altitude_decimal IS NOT DISTINCT FROM t.new_decimal)
), changes AS (
  -- one row per point some member changes (a union, not a join of the range with each member's
  -- rows: a join's estimate of the altitude rows can make the planner compare every pair)
  SELECT j.id,
         bool_or(j.job = '20260217000001') AS motion_job,
         bool_or(j.job = '20260323000002') AS altitude_job,
         bool_or(j.job = '20241202125248') AS reverse_geocoded_job,
         bool_or(j.job = '20250222213848') AS latlon_job,
         max(j.new_altitude) AS new_altitude,
         max(j.new_decimal) AS new_decimal,
         (array_agg(j.new_motion) FILTER (WHERE j.job = '20260217000001'))[1] AS new_motion
  FROM (
    SELECT m.id, '20260217000001' AS job, NULL::integer AS new_altitude, NULL::numeric AS new_decimal, m.new_motion
    FROM m_changes m
    UNION ALL
    SELECT a.id, '20260323000002', a.new_altitude, a.new_decimal, NULL::jsonb
    FROM a_changes a
    UNION ALL
    SELECT p.id, '20241202125248', NULL::integer, NULL::numeric, NULL::jsonb
    FROM points p
    WHERE '20241202125248' = ANY($3::text[])
      AND p.id >= $1 AND p.id < $2
      AND p.reverse_geocoded_at IS NULL
      AND p.geodata <> '{}'::jsonb
    UNION ALL
    SELECT p.id, '20250222213848', NULL::integer, NULL::numeric, NULL::jsonb
    FROM points p
    WHERE '20250222213848' = ANY($3::text[])
      AND p.id >= $1 AND p.id < $2
      AND p.lonlat IS NULL
      AND p.longitude IS NOT NULL
      AND p.latitude IS NOT NULL
      AND p.user_id IN (SELECT u.id FROM users AS u WHERE u.deleted_at IS NULL)
  ) AS j
  GROUP BY j.id
), changed AS (
  UPDATE points p
  SET motion_data = CASE WHEN c.motion_job THEN c.new_motion ELSE p.motion_data END,
      altitude = CASE WHEN c.altitude_job THEN c.new_altitude ELSE p.altitude END,
      altitude_decimal = CASE WHEN c.altitude_job THEN c.new_decimal ELSE p.altitude_decimal END,
      updated_at = CASE WHEN c.motion_job OR c.altitude_job THEN (CURRENT_TIMESTAMP AT TIME ZONE 'UTC') ELSE p.updated_at END,
      reverse_geocoded_at = CASE WHEN c.reverse_geocoded_job THEN (now() AT TIME ZONE 'UTC') ELSE p.reverse_geocoded_at END,
      lonlat = CASE WHEN c.latlon_job THEN ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography ELSE p.lonlat END
  FROM changes c
  WHERE p.id = c.id
    AND p.id >= $1 AND p.id < $2
  RETURNING c.motion_job, c.altitude_job, c.reverse_geocoded_job, c.latlon_job
)
SELECT count(*) FILTER (WHERE motion_job) AS "20260217000001",
       count(*) FILTER (WHERE altitude_job) AS "20260323000002",
       count(*) FILTER (WHERE reverse_geocoded_job) AS "20241202125248",
       count(*) FILTER (WHERE latlon_job) AS "20250222213848"
FROM changed;
