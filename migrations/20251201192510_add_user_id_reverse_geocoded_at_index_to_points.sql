-- version: 20251201192510
-- name: add_user_id_reverse_geocoded_at_index_to_points
-- kind: schema
-- release: 0.36.2
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_user_id_and_reverse_geocoded_at ON points (user_id, reverse_geocoded_at) WHERE reverse_geocoded_at IS NOT NULL;
