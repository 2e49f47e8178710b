-- version: 20240620205120
-- name: add_settings_to_users
-- kind: schema
-- release: 0.7.1
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD COLUMN settings jsonb DEFAULT '{"meters_between_routes":500,"minutes_between_routes":60}';
