-- version: 20240323125126
-- name: add_raw_points_and_doubles_to_import
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

ALTER TABLE imports ADD COLUMN raw_points integer DEFAULT 0;
ALTER TABLE imports ADD COLUMN doubles integer DEFAULT 0;
