-- version: 20260315000001
-- name: backfill_onboarding_completed_for_existing_users
-- kind: schema
-- release: 1.3.4
-- transaction: true
-- changes-data: true
-- needs: 20250821192219, 20260108192905
-- job: DataMigrations::BackfillOnboardingCompletedJob: users (not soft-deleted: User default scope) with points_count > 0 and no settings.onboarding_completed get onboarding_completed = true (update_all: updated_at untouched). Done here in SQL: the UPDATE below.
-- note: The job ran later in Sidekiq; here it runs in the job phase, after every data migration. Users whose settings is a JSON scalar or array are skipped (jsonb_set would fail the whole job on them).

-- phase: job
UPDATE users
SET settings = jsonb_set(COALESCE(settings, '{}'), '{onboarding_completed}', 'true')
WHERE deleted_at IS NULL
  AND points_count > 0
  AND (settings->>'onboarding_completed') IS NULL
  AND (settings IS NULL OR jsonb_typeof(settings) = 'object');
