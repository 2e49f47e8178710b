-- version: 20250723164055
-- name: add_track_generation_composite_index
-- kind: schema
-- release: 0.30.3
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_points_track_generation ON points (user_id, "timestamp", track_id);
