-- version: 20250303194043
-- name: add_lonlat_index_to_places
-- kind: schema
-- release: 0.25.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (Rails has none) so a rerun after a failed build converges.
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_places_on_lonlat ON places USING gist (lonlat);
