-- version: 20250728191359
-- name: add_country_name_to_points
-- kind: schema
-- release: 0.30.6
-- transaction: false
-- changes-data: true
-- job: DataMigrations::BackfillCountryNameJob (Sidekiq, per point: country_name = points.country, else the name of the points.country_id country, set only when not blank; update_column, so updated_at untouched). Done here in SQL: the batched UPDATE below.
-- note: IF NOT EXISTS added to the DDL so a rerun after a partial run converges (the Rails rerun fails with PG::DuplicateColumn, #1598/#1718).
-- note: The job ran later in Sidekiq; here the backfill runs in the job phase, after every data migration (in the order Sidekiq takes the queued jobs). Points whose country_id is set only later (data migration 20250516180933's jobs, or countries not yet seeded by db:seed) keep country_name NULL, as they would have if the job had run at that moment.
ALTER TABLE points ADD COLUMN IF NOT EXISTS country_name character varying;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_country_name ON points (country_name);
-- phase: job
-- batch: points.id
-- fuse: points-rewrite
UPDATE points p
SET country_name = COALESCE(p.country, (SELECT c.name FROM countries c WHERE c.id = p.country_id))
WHERE p.id >= $1 AND p.id < $2
  AND p.country_name IS NULL
  AND COALESCE(p.country, (SELECT c.name FROM countries c WHERE c.id = p.country_id)) !~ '^[[:space:]]*$';
