-- version: 20260120193501
-- name: change_tracks_distance_precision
-- kind: schema
-- release: 1.0.2
-- transaction: false
-- changes-data: false
-- note: Rewrites tracks (decimal(8,2) -> bigint; PostgreSQL rounds the fraction, it does not truncate as the Ruby comment says). Running it again on a bigint column changes nothing.
ALTER TABLE tracks ALTER COLUMN distance TYPE bigint;
