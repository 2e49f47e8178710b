-- version: 20250120154554
-- name: remove_duplicate_points
-- kind: data
-- release: 0.23.0
-- transaction: true
-- changes-data: true
-- needs: 20240822092405, 20250821192219, 20260108192905
-- note: Rails: points are grouped by (latitude, longitude, timestamp, user_id) (NULLs group together, and the per-group lookup uses IS NULL, so they match); in every group with more than one point all but the highest id are destroyed, each destroy decrementing imports.points_count of its import (COALESCE(points_count, 0) - 1, no updated_at). Reproduced set-based with ROW_NUMBER; the rows go to quarantine instead of being deleted outright.
-- note: Usually finds nothing: schema migration 20250120154555 (run earlier, data migrations run after all schema migrations) already removed these duplicates, keeping the lowest id; when an INVALID index of its name made Rails skip it, Dawarich removes them here, and 20250120154555 does this migration's removal itself (highest id kept, same counter decrements) so it can rebuild the index.
-- note: One transaction with one full scan and sort of points (as the Ruby); not batched, so the delete and the counter update stay atomic.
-- note: Deviation: users.points_count of the owners of removed points is recounted afterwards (Dawarich leaves it stale until PrefillPointsCounterCacheJob or the scheduled Users::PointsCounterCorrectionJob); undo of the quarantine does not restore these counters.

SELECT dawarich_doctor.quarantine_delete('points',
  $$id IN (SELECT r.id FROM (SELECT id, row_number() OVER (PARTITION BY latitude, longitude, "timestamp", user_id ORDER BY id DESC) AS rn FROM points) AS r WHERE r.rn > 1)$$,
  'data migration 20250120154554 remove_duplicate_points');

-- The import counters, lowered by the points this transaction quarantined (by run, reason and
-- transaction time): the same counts as before the delete, without a second scan and sort.
UPDATE imports AS i
SET points_count = coalesce(i.points_count, 0) - d.n
FROM (
  SELECT q.import_id, count(*) AS n
  FROM dawarich_doctor.quarantine_points AS q
  WHERE q._run_id = coalesce(current_setting('dawarich_doctor.run_id', true), 'manual')
    AND q._reason = 'data migration 20250120154554 remove_duplicate_points'
    AND q._quarantined_at = now()
    AND q.import_id IS NOT NULL
  GROUP BY q.import_id
) AS d
WHERE i.id = d.import_id;

-- Recount the owners of the points quarantined by this run (see note).
UPDATE users AS u
SET points_count = c.n
FROM (
  SELECT f.id, (SELECT count(*) FROM points AS p WHERE p.user_id = f.id) AS n
  FROM users AS f
  WHERE f.deleted_at IS NULL
    AND f.id IN (SELECT q.user_id FROM dawarich_doctor.quarantine_points AS q
                 WHERE q._run_id = coalesce(current_setting('dawarich_doctor.run_id', true), 'manual')
                   AND q._reason = 'data migration 20250120154554 remove_duplicate_points')
) AS c
WHERE u.id = c.id
  AND u.points_count IS DISTINCT FROM c.n;
