-- version: 20260217000000
-- name: optimize_points_indexes
-- kind: schema
-- release: 1.3.0
-- transaction: false
-- changes-data: false
ALTER TABLE points ADD COLUMN IF NOT EXISTS motion_data jsonb DEFAULT '{}' NOT NULL;
DROP INDEX IF EXISTS idx_points_user_city;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_not_reverse_geocoded ON points (id) WHERE reverse_geocoded_at IS NULL;
DROP INDEX IF EXISTS index_points_on_reverse_geocoded_at;
