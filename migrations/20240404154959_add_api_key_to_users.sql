-- version: 20240404154959
-- name: add_api_key_to_users
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD COLUMN api_key character varying DEFAULT '' NOT NULL;
