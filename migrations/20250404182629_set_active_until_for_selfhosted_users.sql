-- version: 20250404182629
-- name: set_active_until_for_selfhosted_users
-- kind: data
-- release: 0.25.4
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- env: SELF_HOSTED (default true): read from dawarich_doctor.self_hosted; only the value 'true' counts as self-hosted
-- note: Rails: when self-hosted, users of the default scope (deleted_at IS NULL) with active_until NULL get active_until = now + 1000 years via update_all (no updated_at); otherwise nothing.
-- note: The 1000 years are added in UTC here; Rails adds them in the app time zone (same date and wall time), which can differ by a DST offset.

UPDATE users
SET active_until = (now() AT TIME ZONE 'UTC') + interval '1000 years'
WHERE deleted_at IS NULL
  AND active_until IS NULL
  AND coalesce(nullif(current_setting('dawarich_doctor.self_hosted', true), ''), 'true') = 'true';
