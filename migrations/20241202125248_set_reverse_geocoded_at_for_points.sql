-- version: 20241202125248
-- name: set_reverse_geocoded_at_for_points
-- kind: data
-- release: 0.19.4
-- transaction: true
-- changes-data: true
-- job: DataMigrations::SetReverseGeocodedAtForPointsJob; done here in SQL: reverse_geocoded_at = now (UTC) for points with geodata <> '{}' and reverse_geocoded_at NULL, batched (update_all, no updated_at).
-- note: The job uses one timestamp taken when it starts; here each batch uses the start time of its own transaction.

-- phase: job
-- batch: points.id
-- fuse: points-rewrite
UPDATE points
SET reverse_geocoded_at = (now() AT TIME ZONE 'UTC')
WHERE id >= $1 AND id < $2
  AND reverse_geocoded_at IS NULL
  AND geodata <> '{}'::jsonb;
