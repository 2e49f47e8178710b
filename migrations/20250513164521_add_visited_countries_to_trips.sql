-- version: 20250513164521
-- name: add_visited_countries_to_trips
-- kind: schema
-- release: 0.26.1
-- transaction: true
-- changes-data: false
ALTER TABLE trips ADD COLUMN visited_countries jsonb DEFAULT '{}'::jsonb NOT NULL;
