-- version: 20250226192005
-- name: activate_selfhosted_users
-- kind: data
-- release: 0.25.0
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- env: SELF_HOSTED (default true): read from dawarich_doctor.self_hosted; only the value 'true' counts as self-hosted
-- note: Rails: when self-hosted, every user of the default scope (deleted_at IS NULL) gets status = 1 (active) via update_all (no updated_at); otherwise nothing.

UPDATE users
SET status = 1
WHERE deleted_at IS NULL
  AND status IS DISTINCT FROM 1
  AND coalesce(nullif(current_setting('dawarich_doctor.self_hosted', true), ''), 'true') = 'true';
