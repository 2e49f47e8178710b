-- version: 20260320000001
-- name: restore_points_user_id_index
-- kind: schema
-- release: 1.4.0
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_user_id ON points (user_id);
