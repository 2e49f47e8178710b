-- version: 20240713103051
-- name: add_admin_to_users
-- kind: schema
-- release: 0.9.3
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD COLUMN admin boolean DEFAULT false;
