-- version: 20250721204404
-- name: add_index_on_places_geodata_osm_id
-- kind: schema
-- release: 0.30.1
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (Rails has none) so a rerun after a failed build converges.
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_places_on_geodata_osm_id ON places USING btree ((geodata->'properties'->>'osm_id'));
