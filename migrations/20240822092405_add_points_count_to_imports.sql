-- version: 20240822092405
-- name: add_points_count_to_imports
-- kind: schema
-- release: 0.12.0
-- transaction: true
-- changes-data: false

ALTER TABLE imports ADD COLUMN points_count integer DEFAULT 0;
