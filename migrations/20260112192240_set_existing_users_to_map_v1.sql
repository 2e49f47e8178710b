-- version: 20260112192240
-- name: set_existing_users_to_map_v1
-- kind: schema
-- release: 1.0.1
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- note: The 1.0.1-1.3.2 copy of this file went through the User model (#2362); the 1.3.3+ copy (translated here) is plain SQL, the same two UPDATEs.
-- note: Depends on users.deleted_at (20260108192905, lower version, so it runs first).
UPDATE users
SET settings = jsonb_set(COALESCE(settings, '{}'), '{maps}', '{}')
WHERE NOT (COALESCE(settings, '{}') ? 'maps')
  AND deleted_at IS NULL;
UPDATE users
SET settings = jsonb_set(settings, '{maps,preferred_version}', '"v1"')
WHERE (settings->'maps'->>'preferred_version' IS DISTINCT FROM 'v2')
  AND deleted_at IS NULL;
