-- version: 20250120154555
-- name: add_unique_index_to_points
-- kind: schema
-- release: 0.23.0
-- transaction: false
-- changes-data: true
-- note: The Ruby DELETEs the duplicates; here they are moved to dawarich_doctor.quarantine_points (restorable with undo).
-- note: Guard: the Ruby skips when an index of that name and columns exists, even an INVALID one left by a failed concurrent build (typically failed on these very duplicates);
-- note: here only a VALID index of that name skips the dedupe, so the runner's rebuild of an INVALID leftover does not fail again on duplicates.

-- The Ruby skips everything when unique_points_lat_long_timestamp_user_id_index already exists;
-- that guard (valid index only, see note) is the first term of the condition: a one-time filter,
-- so no scan of points when the index is already there.
SELECT dawarich_doctor.quarantine_delete('points', $$NOT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index') AND indisvalid) AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY latitude, longitude, "timestamp", user_id ORDER BY id) AS row_num FROM points) AS duplicates WHERE duplicates.row_num > 1)$$, 'duplicate points (same latitude, longitude, timestamp, user_id; lowest id kept) removed before unique_points_lat_long_timestamp_user_id_index');
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS unique_points_lat_long_timestamp_user_id_index ON points (latitude, longitude, "timestamp", user_id);
