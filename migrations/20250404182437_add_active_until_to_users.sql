-- version: 20250404182437
-- name: add_active_until_to_users
-- kind: schema
-- release: 0.25.4
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD active_until timestamp(6) without time zone;
