-- version: 20260310000001
-- name: drop_redundant_indexes
-- kind: schema
-- release: 1.3.3
-- transaction: false
-- changes-data: false
-- note: Rails picks each index by its column list (whatever its name, and raises if two indexes share the columns); here each is dropped by the name Rails gave it, as DROP INDEX CONCURRENTLY cannot run inside a lookup block. An index over the same columns under another (hand-made) name is kept.
-- note: index_points_on_user_id is created again by 20260320000001.
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_user_id;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_timestamp;
DROP INDEX CONCURRENTLY IF EXISTS index_track_segments_on_track_id;
DROP INDEX CONCURRENTLY IF EXISTS index_track_segments_on_transportation_mode;
