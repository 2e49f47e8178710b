-- version: 20250222213848
-- name: migrate_points_latlon
-- kind: data
-- release: 0.25.0
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- job: DataMigrations::MigratePointsLatlonJob, one per user of the default scope (deleted_at IS NULL), each one update_all of all that user's points: lonlat = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326); done here in SQL as a batched backfill.
-- note: Deviation: only points whose lonlat is NULL and whose longitude and latitude are both set are written. The job rewrites every point of the user, which recomputes lonlat from the legacy columns and sets it to NULL on points that only have lonlat (newer imports no longer fill latitude/longitude).
-- note: As in the Ruby, points of soft-deleted users and points with NULL user_id are not migrated.
-- note: Precondition (the job fails with a unique violation on index_points_on_lonlat_timestamp_user_id and so does a batch here): two points of one user that would get the same lonlat and timestamp, e.g. an unmigrated point and a point that already has that lonlat.

-- phase: job
-- batch: points.id
-- fuse: points-rewrite
-- skip-when: NOT EXISTS (SELECT 1 FROM points WHERE lonlat IS NULL) -- every point has lonlat
-- skip-when: NOT EXISTS (SELECT 1 FROM users WHERE deleted_at IS NULL) -- there is no user (not deleted) whose points are migrated
UPDATE points
SET lonlat = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography
WHERE id >= $1 AND id < $2
  AND lonlat IS NULL
  AND longitude IS NOT NULL
  AND latitude IS NOT NULL
  AND user_id IN (SELECT u.id FROM users AS u WHERE u.deleted_at IS NULL);
