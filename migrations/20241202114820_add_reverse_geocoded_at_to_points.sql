-- version: 20241202114820
-- name: add_reverse_geocoded_at_to_points
-- kind: schema
-- release: 0.19.4
-- transaction: false
-- changes-data: false
-- note: The Ruby returns early when points.reverse_geocoded_at already exists and then never builds the index
-- note: (a rerun after a half-done attempt skips it). Here both statements are idempotent, so the index is always built.

ALTER TABLE points ADD COLUMN IF NOT EXISTS reverse_geocoded_at timestamp(6) without time zone;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_reverse_geocoded_at ON points (reverse_geocoded_at);
