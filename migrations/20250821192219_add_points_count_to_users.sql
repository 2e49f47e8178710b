-- version: 20250821192219
-- name: add_points_count_to_users
-- kind: schema
-- release: 0.30.12
-- transaction: true
-- changes-data: true
-- job: DataMigrations::PrefillPointsCounterCacheJob (Sidekiq: per user visible to the default scope, points_count = number of the user's points). Done here in SQL: the UPDATE below.
-- note: The job ran later in Sidekiq, after every migration; its User scope hides soft-deleted users when users.deleted_at exists, so the UPDATE skips them only in that case.
ALTER TABLE users ADD COLUMN points_count integer DEFAULT 0 NOT NULL;
-- phase: job
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'deleted_at') THEN
    EXECUTE 'UPDATE users SET points_count = (SELECT count(*) FROM points WHERE points.user_id = users.id) WHERE deleted_at IS NULL';
  ELSE
    UPDATE users SET points_count = (SELECT count(*) FROM points WHERE points.user_id = users.id);
  END IF;
END
$$;
