-- version: 20240324173315
-- name: add_daily_distance_to_stat
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

ALTER TABLE stats ADD COLUMN daily_distance jsonb DEFAULT '{}';
