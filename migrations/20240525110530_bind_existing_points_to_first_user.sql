-- version: 20240525110530
-- name: bind_existing_points_to_first_user
-- kind: data
-- release: 0.4.0
-- transaction: true
-- changes-data: true
-- needs: 20250821192219, 20260108192905
-- note: Rails: the first user is the lowest id among users with deleted_at IS NULL (1.7.5 SoftDeletable default scope). If there is none, nothing happens and points with NULL user_id stay (a later "User must exist" source). Otherwise every point with NULL user_id gets that user's id in one update_all (no updated_at change).
-- note: Here the UPDATE is a batched backfill over points.id (each range commits on its own) instead of one statement.
-- note: Deviation: afterwards that user's points_count is recounted if it differs. Dawarich leaves it stale until PrefillPointsCounterCacheJob (schema migration 20250821192219, run by Sidekiq after data:migrate) or the scheduled Users::PointsCounterCorrectionJob recounts it.

-- batch: points.id
-- skip-when: NOT EXISTS (SELECT 1 FROM points WHERE user_id IS NULL) -- every point has an owner
-- skip-when: NOT EXISTS (SELECT 1 FROM users WHERE deleted_at IS NULL) -- there is no user (not deleted) to give points to
UPDATE points
SET user_id = (SELECT u.id FROM users AS u WHERE u.deleted_at IS NULL ORDER BY u.id LIMIT 1)
WHERE id >= $1 AND id < $2
  AND user_id IS NULL
  AND EXISTS (SELECT 1 FROM users AS u WHERE u.deleted_at IS NULL);

-- Counter cache the later PrefillPointsCounterCacheJob would correct (see note).
UPDATE users AS u
SET points_count = c.n
FROM (
  SELECT f.id, (SELECT count(*) FROM points AS p WHERE p.user_id = f.id) AS n
  FROM users AS f
  WHERE f.id = (SELECT u1.id FROM users AS u1 WHERE u1.deleted_at IS NULL ORDER BY u1.id LIMIT 1)
) AS c
WHERE u.id = c.id
  AND u.points_count IS DISTINCT FROM c.n;
