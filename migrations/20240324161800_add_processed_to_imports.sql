-- version: 20240324161800
-- name: add_processed_to_imports
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

ALTER TABLE imports ADD COLUMN processed integer DEFAULT 0;
