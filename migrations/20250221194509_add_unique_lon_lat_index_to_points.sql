-- version: 20250221194509
-- name: add_unique_lon_lat_index_to_points
-- kind: schema
-- release: 0.25.0
-- transaction: false
-- changes-data: false
-- note: Rails skips when an index of this name over (lonlat, timestamp, user_id) exists; IF NOT EXISTS checks the name only.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_lonlat_timestamp_user_id ON points (lonlat, "timestamp", user_id);
