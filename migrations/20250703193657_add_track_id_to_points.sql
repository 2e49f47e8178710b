-- version: 20250703193657
-- name: add_track_id_to_points
-- kind: schema
-- release: 0.30.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added to both statements (Rails has none) so a rerun after a partial run converges; no foreign key, as in Rails.
ALTER TABLE points ADD COLUMN IF NOT EXISTS track_id bigint;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_track_id ON points (track_id);
