-- version: 20250905120121
-- name: add_user_country_composite_index_to_points
-- kind: schema
-- release: 0.32.0
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_points_user_country_name ON points (user_id, country_name);
