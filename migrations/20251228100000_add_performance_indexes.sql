-- version: 20251228100000
-- name: add_performance_indexes
-- kind: schema
-- release: 0.37.0
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_api_key ON users (api_key);
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_status ON users (status);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_points_user_city ON points (user_id, city);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_points_user_visit_null_timestamp ON points (user_id, "timestamp") WHERE visit_id IS NULL;
