-- version: 20260301202147
-- name: set_plan_for_existing_users
-- kind: schema
-- release: 1.3.2
-- transaction: true
-- changes-data: true
-- env: SELF_HOSTED (default true; only the exact value 'true' counts as self-hosted): read from dawarich_doctor.self_hosted (unset or empty = 'true'). Self-hosted: every user gets plan 1 (pro). Otherwise: plan 1 for status 1/2 (active, trial), plan 0 (lite) for status 0 (inactive).
-- note: The 1.3.2-1.7.2 copy of this file went through the User model (#2576); the 1.7.3+ copy (translated here) is plain SQL. The Ruby runs one branch; here both are written and each is a no-op unless the setting selects it.
UPDATE users SET plan = 1
WHERE COALESCE(NULLIF(current_setting('dawarich_doctor.self_hosted', true), ''), 'true') = 'true';
UPDATE users SET plan = 1
WHERE COALESCE(NULLIF(current_setting('dawarich_doctor.self_hosted', true), ''), 'true') <> 'true'
  AND status IN (1, 2);
UPDATE users SET plan = 0
WHERE COALESCE(NULLIF(current_setting('dawarich_doctor.self_hosted', true), ''), 'true') <> 'true'
  AND status = 0;
