-- version: 20250123151657
-- name: add_path_to_trips
-- kind: schema
-- release: 0.23.6
-- transaction: true
-- changes-data: false

ALTER TABLE trips ADD COLUMN path geometry(LineString,3857);
