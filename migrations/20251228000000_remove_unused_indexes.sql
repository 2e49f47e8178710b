-- version: 20251228000000
-- name: remove_unused_indexes
-- kind: schema
-- release: 0.37.0
-- transaction: false
-- changes-data: false
-- note: Rails picks each index by its column list (whatever its name, and raises if two indexes share the columns); here each is dropped by the name Rails gave it, as DROP INDEX CONCURRENTLY cannot run inside a lookup block. An index over the same columns under another (hand-made) name is kept.
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_geodata;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_latitude_and_longitude;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_altitude;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_city;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_country_name;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_battery_status;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_connection;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_trigger;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_battery;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_country;
DROP INDEX CONCURRENTLY IF EXISTS index_points_on_external_track_id;
