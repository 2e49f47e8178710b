-- version: 20240630093005
-- name: add_fog_of_war_to_default_settings
-- kind: schema
-- release: 0.8.1
-- transaction: true
-- changes-data: false

ALTER TABLE users ALTER COLUMN settings SET DEFAULT '{"fog_of_war_meters":"100","meters_between_routes":"1000","minutes_between_routes":"60"}';
