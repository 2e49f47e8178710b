-- version: 20250221185032
-- name: add_lonlat_index
-- kind: schema
-- release: 0.25.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (Rails has none) so a rerun after a failed build converges; the runner rebuilds an INVALID leftover.
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_lonlat ON points USING gist (lonlat);
