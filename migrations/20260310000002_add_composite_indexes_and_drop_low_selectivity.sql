-- version: 20260310000002
-- name: add_composite_indexes_and_drop_low_selectivity
-- kind: schema
-- release: 1.3.3
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_points_track_id_timestamp ON points (track_id, "timestamp");
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_tracks_user_id_start_at ON tracks (user_id, start_at);
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_user_id_and_reverse_geocoded_at;
