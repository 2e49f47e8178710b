-- version: 20250120154555
-- name: add_unique_index_to_points
-- kind: schema
-- release: 0.23.0
-- transaction: false
-- changes-data: true
-- needs: 20240822092405
-- note: Rails skips the whole migration when an index of that name exists on points over these columns, even an INVALID one (left by a failed concurrent build, typically on these very duplicates); otherwise it DELETEs all but the lowest id of each (latitude, longitude, timestamp, user_id) group (raw SQL, no counter cache) and builds the index.
-- note: No index of that name: the same rows go to dawarich_doctor.quarantine_points instead (restorable with undo).
-- note: An INVALID one: Dawarich leaves it INVALID, and data migration 20250120154554 (run after all schema migrations) destroys the duplicates keeping the highest id, decrementing imports.points_count per destroyed point. Here that removal happens in this migration (same rows kept and quarantined, same decrements, one atomic statement), so that the runner can rebuild the index (deliberate: Dawarich leaves it INVALID until 20250221194430 drops it); 20250120154554 then finds nothing.
-- note: users.points_count is not touched: it is added later (20250821192219) and counted there.
-- note: A VALID one: nothing to do.

-- An INVALID leftover: the highest id of each group is kept, as data migration 20250120154554 keeps
-- it; the import counters are lowered by the rows this statement quarantined (by run, reason and
-- transaction time), so a rerun after an interruption finds no duplicates and changes nothing.
DO $$
DECLARE
  v_run text := coalesce(current_setting('dawarich_doctor.run_id', true), 'manual');
  v_reason text := 'duplicate points (same latitude, longitude, timestamp, user_id; highest id kept, as data migration 20250120154554 does when an INVALID unique_points_lat_long_timestamp_user_id_index makes Rails skip this migration) removed before rebuilding the index';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index') AND NOT indisvalid) THEN
    RETURN;
  END IF;
  PERFORM dawarich_doctor.quarantine_delete('points',
    $c$id IN (SELECT d.id FROM (SELECT id, row_number() OVER (PARTITION BY latitude, longitude, "timestamp", user_id ORDER BY id DESC) AS rn FROM points) AS d WHERE d.rn > 1)$c$,
    v_reason);
  UPDATE imports AS i
  SET points_count = coalesce(i.points_count, 0) - q.n
  FROM (
    SELECT qp.import_id, count(*) AS n
    FROM dawarich_doctor.quarantine_points AS qp
    WHERE qp._run_id = v_run AND qp._reason = v_reason AND qp._quarantined_at = now() AND qp.import_id IS NOT NULL
    GROUP BY qp.import_id
  ) AS q
  WHERE i.id = q.import_id;
END
$$;
-- No index of that name: Rails' DELETE, lowest id kept. The guard is the first term of the
-- condition, a one-time filter, so no scan of points when the index is already there.
SELECT dawarich_doctor.quarantine_delete('points', $$NOT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('unique_points_lat_long_timestamp_user_id_index')) AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY latitude, longitude, "timestamp", user_id ORDER BY id) AS row_num FROM points) AS duplicates WHERE duplicates.row_num > 1)$$, 'duplicate points (same latitude, longitude, timestamp, user_id; lowest id kept) removed before unique_points_lat_long_timestamp_user_id_index');
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS unique_points_lat_long_timestamp_user_id_index ON points (latitude, longitude, "timestamp", user_id);
