-- version: 20260120193336
-- name: add_dominant_mode_to_tracks
-- kind: schema
-- release: 1.0.2
-- transaction: false
-- changes-data: false
ALTER TABLE tracks ADD COLUMN IF NOT EXISTS dominant_mode integer DEFAULT 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_tracks_on_dominant_mode ON tracks (dominant_mode);
