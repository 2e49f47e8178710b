-- version: 20260503111800
-- name: add_corrected_at_to_track_segments
-- kind: schema
-- release: 1.7.5
-- transaction: false
-- changes-data: false
ALTER TABLE track_segments ADD COLUMN IF NOT EXISTS corrected_at timestamp(6) without time zone;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_track_segments_on_corrected_at ON track_segments (corrected_at) WHERE corrected_at IS NOT NULL;
