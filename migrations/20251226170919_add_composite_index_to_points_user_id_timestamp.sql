-- version: 20251226170919
-- name: add_composite_index_to_points_user_id_timestamp
-- kind: schema
-- release: 0.37.0
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_user_id_and_timestamp ON points (user_id, "timestamp" DESC);
