-- version: 20240712141303
-- name: add_geodata_to_points
-- kind: schema
-- release: 0.9.0
-- transaction: true
-- changes-data: false

ALTER TABLE points ADD COLUMN geodata jsonb DEFAULT '{}' NOT NULL;
CREATE INDEX index_points_on_geodata ON points USING gin (geodata);
