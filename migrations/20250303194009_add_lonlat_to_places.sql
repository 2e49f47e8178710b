-- version: 20250303194009
-- name: add_lonlat_to_places
-- kind: schema
-- release: 0.25.0
-- transaction: true
-- changes-data: false
ALTER TABLE places ADD lonlat geography(Point,4326);
