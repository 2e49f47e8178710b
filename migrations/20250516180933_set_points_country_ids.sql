-- version: 20250516180933
-- name: set_points_country_ids
-- kind: data
-- release: 0.26.1
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- job: DataMigrations::StartSettingsPointsCountryIdsJob, which enqueues one DataMigrations::SetPointsCountryIdsJob per point with country_id NULL; each looks up the lowest-id country whose geom contains the point and saves it with validations. Done here in SQL as one batched UPDATE (updated_at UTC is set on the rows that get a country).
-- follow-up: DataMigrations::StartSettingsPointsCountryIdsJob.perform_later
-- follow-up-when: EXISTS (SELECT 1 FROM points WHERE country_id IS NULL) AND NOT EXISTS (SELECT 1 FROM points WHERE country_id IS NOT NULL)
-- note: The follow-up is needed only when the countries table was empty when this ran (countries are loaded by db:seed, which Dawarich runs after data:migrate, so this is the case when the table was created in this upgrade): then no point has a country yet. It enqueues one Sidekiq job per point without a country (slow on large databases).
-- note: Points the job fails on are skipped, as there: lonlat NULL, timestamp NULL, owner missing or soft-deleted (validation). Points with no containing country stay NULL and are looked at again on a rerun without being written.

-- phase: job
-- batch: points.id
-- skip-when: NOT EXISTS (SELECT 1 FROM countries) -- countries is empty (Dawarich loads it in db:seed, after its migrations)
-- skip-when: NOT EXISTS (SELECT 1 FROM users WHERE deleted_at IS NULL) -- there is no user (not deleted) whose points are looked at
UPDATE points AS p
SET country_id = m.country_id,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT p0.id,
         (SELECT c.id FROM countries AS c
          WHERE ST_Contains(c.geom, p0.lonlat::geometry)
          ORDER BY c.id LIMIT 1) AS country_id
  FROM points AS p0
  JOIN users AS u ON u.id = p0.user_id AND u.deleted_at IS NULL
  WHERE p0.id >= $1 AND p0.id < $2
    AND p0.country_id IS NULL
    AND p0.lonlat IS NOT NULL
    AND p0."timestamp" IS NOT NULL
) AS m
WHERE p.id = m.id
  AND m.country_id IS NOT NULL;
