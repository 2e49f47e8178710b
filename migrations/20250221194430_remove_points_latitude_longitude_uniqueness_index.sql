-- version: 20250221194430
-- name: remove_points_latitude_longitude_uniqueness_index
-- kind: schema
-- release: 0.25.0
-- transaction: false
-- changes-data: false
-- note: Rails drops the index only if an index of this name exists on points over (latitude, longitude, timestamp, user_id); here the guard is by name alone (IF EXISTS), as DROP INDEX CONCURRENTLY cannot run inside a guarded block.
-- note: An older unique index unique_points_index on the same columns (left by the 0.23.0 image) is not dropped, exactly as in Rails.
DROP INDEX CONCURRENTLY IF EXISTS unique_points_lat_long_timestamp_user_id_index;
