-- version: 20240610170930
-- name: remove_points_without_coordinates
-- kind: data
-- release: 0.5.3
-- transaction: true
-- changes-data: true
-- needs: 20240822092405, 20250821192219, 20260108192905
-- job: BulkStatsCalculatingJob (stats of all active and trial users); not done here: the stats calculation is Ruby.
-- follow-up: BulkStatsCalculatingJob.perform_later
-- note: Rails: points with longitude = 0.0 OR latitude = 0.0 whose raw_data lookups of latitudeE7 and longitudeE7 both give nil are destroyed one by one: a JSON object with neither key (or only JSON nulls), or a JSON string containing neither text latitudeE7 nor longitudeE7 (on a string the lookup is a case-sensitive substring search of the decoded text); each destroy decrements imports.points_count of its import (counter cache, COALESCE(points_count, 0) - 1, no updated_at). Reproduced set-based: counters first, then the rows go to quarantine (dawarich_doctor.quarantine_points) instead of being deleted outright.
-- note: One transaction with a full scan of points (as the Ruby); not batched, so the counter update and the delete stay atomic.
-- note: Precondition (Ruby raises, migration rolls back): a candidate point (lon or lat 0.0) whose raw_data is NULL, a JSON null, number, array or boolean; such rows are left alone here.
-- note: Deviation: users.points_count of the owners of removed points is recounted afterwards (Dawarich leaves it stale until PrefillPointsCounterCacheJob or the scheduled Users::PointsCounterCorrectionJob); undo of the quarantine does not restore these counters.

UPDATE imports AS i
SET points_count = coalesce(i.points_count, 0) - d.n
FROM (
  SELECT p.import_id, count(*) AS n
  FROM points AS p
  WHERE p.import_id IS NOT NULL
    AND (p.longitude = 0.0 OR p.latitude = 0.0)
    AND ((jsonb_typeof(p.raw_data) = 'object'
          AND p.raw_data ->> 'latitudeE7' IS NULL
          AND p.raw_data ->> 'longitudeE7' IS NULL)
      OR (jsonb_typeof(p.raw_data) = 'string'
          AND strpos(p.raw_data #>> '{}', 'latitudeE7') = 0
          AND strpos(p.raw_data #>> '{}', 'longitudeE7') = 0))
  GROUP BY p.import_id
) AS d
WHERE i.id = d.import_id;

SELECT dawarich_doctor.quarantine_delete('points',
  $$(longitude = 0.0 OR latitude = 0.0)
    AND ((jsonb_typeof(raw_data) = 'object' AND raw_data ->> 'latitudeE7' IS NULL AND raw_data ->> 'longitudeE7' IS NULL)
      OR (jsonb_typeof(raw_data) = 'string' AND strpos(raw_data #>> '{}', 'latitudeE7') = 0 AND strpos(raw_data #>> '{}', 'longitudeE7') = 0))$$,
  'data migration 20240610170930 remove_points_without_coordinates');

-- Recount the owners of the points quarantined by this run (see note).
UPDATE users AS u
SET points_count = c.n
FROM (
  SELECT f.id, (SELECT count(*) FROM points AS p WHERE p.user_id = f.id) AS n
  FROM users AS f
  WHERE f.deleted_at IS NULL
    AND f.id IN (SELECT q.user_id FROM dawarich_doctor.quarantine_points AS q
                 WHERE q._run_id = coalesce(current_setting('dawarich_doctor.run_id', true), 'manual')
                   AND q._reason = 'data migration 20240610170930 remove_points_without_coordinates')
) AS c
WHERE u.id = c.id
  AND u.points_count IS DISTINCT FROM c.n;
