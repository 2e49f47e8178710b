-- version: 20250219195822
-- name: add_status_to_users
-- kind: schema
-- release: 0.25.0
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD COLUMN status integer DEFAULT 0;
