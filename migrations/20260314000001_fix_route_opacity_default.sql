-- version: 20260314000001
-- name: fix_route_opacity_default
-- kind: schema
-- release: 1.3.4
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- job: DataMigrations::FixRouteOpacityJob: users (not soft-deleted: User default scope) whose settings.route_opacity is above 1 get it divided by 100 (update_all: updated_at untouched). Done here in SQL: the UPDATE below.
-- note: The job ran later in Sidekiq; here it runs in the job phase, after every data migration. Its cast (settings->>'route_opacity')::float fails the whole job on a non-numeric value; here only values that read as a plain decimal number are considered, so such a value is left alone instead of failing the migration.

-- phase: job
UPDATE users
SET settings = jsonb_set(settings, '{route_opacity}', to_jsonb((settings->>'route_opacity')::float / 100.0))
WHERE deleted_at IS NULL
  AND (settings->>'route_opacity') ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
  AND (CASE WHEN (settings->>'route_opacity') ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
            THEN (settings->>'route_opacity')::numeric > 1 END);
