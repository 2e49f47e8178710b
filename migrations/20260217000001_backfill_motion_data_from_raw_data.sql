-- version: 20260217000001
-- name: backfill_motion_data_from_raw_data
-- kind: schema
-- release: 1.3.0
-- transaction: true
-- changes-data: true
-- job: DataMigrations::BackfillMotionDataJob: for points with motion_data = '{}' and raw_data <> '{}', Points::MotionDataExtractor.from_raw_data picks the first non-empty of (1) properties.motion/activity/action, (2) activity/activityRecord/activities/activityType/waypointPath.travelMode, (3) m (+ _type); keys whose value is null or false are left out; upsert_all touches updated_at. Done here in SQL: the batched UPDATE below.
-- note: The Ruby migration only enqueues the job (the backfill ran later in Sidekiq, outside the migration transaction); here the backfill runs in the job phase, after every data migration, as a batched statement, each range committing on its own, and it is the file's only statement.
-- note: Where the Ruby job would raise (properties or waypointPath present but not a JSON object), that part is treated as absent instead of failing the whole job. Points whose raw_data yields nothing keep motion_data = '{}', as in the Ruby.

-- phase: job
-- batch: points.id
-- fuse: points-rewrite
WITH src AS (
  SELECT p.id,
         p.raw_data AS r,
         CASE WHEN jsonb_typeof(p.raw_data->'properties') = 'object' THEN p.raw_data->'properties' END AS pr,
         CASE WHEN jsonb_typeof(p.raw_data->'waypointPath') = 'object' THEN p.raw_data->'waypointPath'->'travelMode' END AS tm
  FROM points p
  WHERE p.id >= $1 AND p.id < $2
    AND p.motion_data = '{}'
    AND p.raw_data <> '{}'
    AND jsonb_typeof(p.raw_data) = 'object'
), ext AS (
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
  FROM src
)
UPDATE points p
SET motion_data = CASE WHEN e.overland <> '{}' THEN e.overland
                       WHEN e.google <> '{}' THEN e.google
                       ELSE e.owntracks END,
    updated_at = (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')
FROM ext e
WHERE p.id = e.id
  AND (e.overland <> '{}' OR e.google <> '{}' OR e.owntracks <> '{}');
