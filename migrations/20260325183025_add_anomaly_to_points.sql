-- version: 20260325183025
-- name: add_anomaly_to_points
-- kind: schema
-- release: 1.5.0
-- transaction: false
-- changes-data: false
-- note: The partial index covers nearly every point (anomaly IS NOT TRUE): a long concurrent build on big tables.
ALTER TABLE points ADD COLUMN IF NOT EXISTS anomaly boolean;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_not_anomaly ON points (anomaly) WHERE anomaly IS NOT TRUE;
