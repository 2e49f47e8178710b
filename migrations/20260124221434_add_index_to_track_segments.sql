-- version: 20260124221434
-- name: add_index_to_track_segments
-- kind: schema
-- release: 1.0.2
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_track_segments_on_track_and_indices ON track_segments (track_id, start_index, end_index);
