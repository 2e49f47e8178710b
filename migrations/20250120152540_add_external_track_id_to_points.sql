-- version: 20250120152540
-- name: add_external_track_id_to_points
-- kind: schema
-- release: 0.23.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added to both statements (the Ruby has none) so that a rerun after a partial attempt succeeds.

ALTER TABLE points ADD COLUMN IF NOT EXISTS external_track_id character varying;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_external_track_id ON points (external_track_id);
