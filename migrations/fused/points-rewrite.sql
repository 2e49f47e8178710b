-- fuse: points-rewrite
-- note: The job work of 20250728191359 add_country_name_to_points, 20260217000001 backfill_motion_data_from_raw_data, 20260323000002 backfill_altitude_from_raw_data, 20241202125248 set_reverse_geocoded_at_for_points and 20250222213848 migrate_points_latlon in one UPDATE per range: each point gets what those of them that walk ($3) would write one after another (none reads a column another writes), in one new row version instead of one per job. The conditions and values are their statements' own.
-- note: Every condition is read from the statement's snapshot (as 20260323000002's own statement does): with no other writer on these rows the same rows change as with the statements one after another.
-- note: Each point of the range is read once: the members' conditions and values are computed side by side in one pass (each level once per row: OFFSET 0 keeps the planner from inlining it into the next), and only points some member changes are written.

WITH src AS (
  -- each point of the range once, with whether each member that walks ($3) takes it: its
  -- statement's own conditions
  SELECT p.id, p.altitude, p.altitude_decimal, p.raw_data AS r,
         CASE WHEN '20250728191359' = ANY($3::text[]) AND p.country_name IS NULL
              THEN COALESCE(p.country, (SELECT c.name FROM countries c WHERE c.id = p.country_id)) END AS cn,
         ('20260217000001' = ANY($3::text[])
          AND p.motion_data = '{}'
          AND p.raw_data <> '{}'
          AND jsonb_typeof(p.raw_data) = 'object') IS TRUE AS m_in,
         ('20260323000002' = ANY($3::text[])
          AND p.raw_data <> '{}'
          AND jsonb_typeof(p.raw_data) = 'object'
          AND p.user_id IN (SELECT u.id FROM users u WHERE u.points_count > 0 AND u.deleted_at IS NULL)) IS TRUE AS a_in,
         ('20241202125248' = ANY($3::text[])
          AND p.reverse_geocoded_at IS NULL
          AND p.geodata <> '{}'::jsonb) IS TRUE AS reverse_geocoded_job,
         ('20250222213848' = ANY($3::text[])
          AND p.lonlat IS NULL
          AND p.longitude IS NOT NULL
          AND p.latitude IS NOT NULL
          AND p.user_id IN (SELECT u.id FROM users AS u WHERE u.deleted_at IS NULL)) IS TRUE AS latlon_job
  FROM points p
  WHERE p.id >= $1 AND p.id < $2
  OFFSET 0 -- (each level is computed once per row, not inlined into the next)
), parts AS (
  SELECT s.*,
         (cn !~ '^[[:space:]]*$') IS TRUE AS country_job,
         CASE WHEN m_in AND jsonb_typeof(r->'properties') = 'object' THEN r->'properties' END AS pr,
         CASE WHEN m_in AND jsonb_typeof(r->'waypointPath') = 'object' THEN r->'waypointPath'->'travelMode' END AS tm,
         CASE WHEN a_in AND jsonb_typeof(r->'properties') = 'object'
              THEN r->'properties'->'altitude' END AS prop_alt,
         CASE WHEN a_in AND jsonb_typeof(r->'geometry') = 'object'
               AND jsonb_typeof(r->'geometry'->'coordinates') = 'array'
              THEN r->'geometry'->'coordinates'->2 END AS geom_alt
  FROM src s
  OFFSET 0
), m_ext AS (
  SELECT id, altitude, altitude_decimal, cn, country_job, reverse_geocoded_job, latlon_job, r, a_in, prop_alt, geom_alt,
         CASE WHEN m_in THEN
           CASE WHEN pr->'motion' NOT IN ('null', 'false') THEN jsonb_build_object('motion', pr->'motion') ELSE '{}' END
           || CASE WHEN pr->'activity' NOT IN ('null', 'false') THEN jsonb_build_object('activity', pr->'activity') ELSE '{}' END
           || CASE WHEN pr->'action' NOT IN ('null', 'false') THEN jsonb_build_object('action', pr->'action') ELSE '{}' END
         END AS overland,
         CASE WHEN m_in THEN
           CASE WHEN r->'activity' NOT IN ('null', 'false') THEN jsonb_build_object('activity', r->'activity') ELSE '{}' END
           || CASE WHEN r->'activityRecord' NOT IN ('null', 'false') THEN jsonb_build_object('activityRecord', r->'activityRecord') ELSE '{}' END
           || CASE WHEN r->'activities' NOT IN ('null', 'false') THEN jsonb_build_object('activities', r->'activities') ELSE '{}' END
           || CASE WHEN r->'activityType' NOT IN ('null', 'false') THEN jsonb_build_object('activityType', r->'activityType') ELSE '{}' END
           || CASE WHEN tm NOT IN ('null', 'false') THEN jsonb_build_object('travelMode', tm) ELSE '{}' END
         END AS google,
         CASE WHEN m_in THEN
           CASE WHEN r->'m' NOT IN ('null', 'false')
                THEN jsonb_build_object('m', r->'m')
                     || CASE WHEN r->'_type' NOT IN ('null', 'false') THEN jsonb_build_object('_type', r->'_type') ELSE '{}' END
                ELSE '{}'
           END
         END AS owntracks
  FROM parts
  OFFSET 0
), a_picked AS (
  SELECT id, altitude, altitude_decimal, cn, country_job, reverse_geocoded_job, latlon_job,
         (overland <> '{}' OR google <> '{}' OR owntracks <> '{}') IS TRUE AS motion_job,
         CASE WHEN overland <> '{}' THEN overland
              WHEN google <> '{}' THEN google
              ELSE owntracks END AS new_motion,
         CASE WHEN NOT a_in THEN NULL
              WHEN r ? 'alt' THEN r->'alt'
              WHEN r ? 'properties'
               AND prop_alt IS NOT NULL AND prop_alt NOT IN ('null', 'false', '[]', '{}')
               AND NOT (jsonb_typeof(prop_alt) = 'string' AND (prop_alt #>> '{}') ~ '^\s*$') THEN prop_alt
              WHEN r ? 'properties'
               AND geom_alt IS NOT NULL AND geom_alt NOT IN ('null', 'false', '[]', '{}')
               AND NOT (jsonb_typeof(geom_alt) = 'string' AND (geom_alt #>> '{}') ~ '^\s*$') THEN geom_alt
              WHEN r ? 'altitudeMeters' THEN r->'altitudeMeters'
              WHEN r ? 'ele' THEN r->'ele'
              WHEN r ? 'altitude' THEN r->'altitude'
         END AS v
  FROM m_ext
  OFFSET 0
), a_num AS (
  SELECT id, altitude, altitude_decimal, cn, country_job, reverse_geocoded_job, latlon_job, motion_job, new_motion,
         CASE jsonb_typeof(v)
           WHEN 'number' THEN (v #>> '{}')::numeric
           WHEN 'null' THEN 0
           WHEN 'string' THEN COALESCE(
             substring(v #>> '{}' FROM '^\s*([-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?)')::numeric, 0)
         END AS n
  FROM a_picked
  OFFSET 0
), a_computed AS (
  SELECT id, altitude, altitude_decimal, cn, country_job, reverse_geocoded_job, latlon_job, motion_job, new_motion,
         CASE WHEN abs(n) < 99999999.995 THEN n::double precision END AS f
  FROM a_num
  OFFSET 0
), a_target AS (
  SELECT id, altitude, altitude_decimal, cn, country_job, reverse_geocoded_job, latlon_job, motion_job, new_motion, f,
         trunc(f)::integer AS new_altitude,
         round(f::numeric, 2) AS new_decimal
  FROM a_computed
  OFFSET 0
), changes AS (
  SELECT id, cn, country_job, motion_job, reverse_geocoded_job, latlon_job, new_motion, new_altitude, new_decimal,
         (f IS NOT NULL
          AND NOT (altitude IS NOT NULL AND altitude::numeric = f::numeric)
          AND NOT (altitude IS NOT DISTINCT FROM new_altitude AND altitude_decimal IS NOT DISTINCT FROM new_decimal)
         ) IS TRUE AS altitude_job
  FROM a_target
  OFFSET 0
), changed AS (
  UPDATE points p
  SET country_name = CASE WHEN c.country_job THEN c.cn ELSE p.country_name END,
      motion_data = CASE WHEN c.motion_job THEN c.new_motion ELSE p.motion_data END,
      altitude = CASE WHEN c.altitude_job THEN c.new_altitude ELSE p.altitude END,
      altitude_decimal = CASE WHEN c.altitude_job THEN c.new_decimal ELSE p.altitude_decimal END,
      updated_at = CASE WHEN c.motion_job OR c.altitude_job THEN (CURRENT_TIMESTAMP AT TIME ZONE 'UTC') ELSE p.updated_at END,
      reverse_geocoded_at = CASE WHEN c.reverse_geocoded_job THEN (now() AT TIME ZONE 'UTC') ELSE p.reverse_geocoded_at END,
      lonlat = CASE WHEN c.latlon_job THEN ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography ELSE p.lonlat END
  FROM changes c
  WHERE p.id = c.id
    AND p.id >= $1 AND p.id < $2
    AND (c.country_job OR c.motion_job OR c.altitude_job OR c.reverse_geocoded_job OR c.latlon_job)
  RETURNING c.country_job, c.motion_job, c.altitude_job, c.reverse_geocoded_job, c.latlon_job
)
SELECT count(*) FILTER (WHERE country_job) AS "20250728191359",
       count(*) FILTER (WHERE motion_job) AS "20260217000001",
       count(*) FILTER (WHERE altitude_job) AS "20260323000002",
       count(*) FILTER (WHERE reverse_geocoded_job) AS "20241202125248",
       count(*) FILTER (WHERE latlon_job) AS "20250222213848"
FROM changed;
