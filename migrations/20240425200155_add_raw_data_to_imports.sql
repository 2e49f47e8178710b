-- version: 20240425200155
-- name: add_raw_data_to_imports
-- kind: schema
-- release: 0.1.9
-- transaction: true
-- changes-data: false

ALTER TABLE imports ADD COLUMN raw_data jsonb;
