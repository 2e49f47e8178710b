-- version: 20240518095848
-- name: add_theme_to_users
-- kind: schema
-- release: 0.2.1
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD COLUMN theme character varying DEFAULT 'dark' NOT NULL;
