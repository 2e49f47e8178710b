-- version: 20250221181805
-- name: add_lonlat_to_points
-- kind: schema
-- release: 0.25.0
-- transaction: true
-- changes-data: false

ALTER TABLE points ADD COLUMN lonlat geography(Point,4326);
