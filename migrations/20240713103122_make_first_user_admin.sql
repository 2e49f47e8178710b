-- version: 20240713103122
-- name: make_first_user_admin
-- kind: data
-- release: 0.9.3
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- note: Rails: the first user (lowest id among users with deleted_at IS NULL, the SoftDeletable default scope) gets admin = true and is saved with validations; no users, nothing happens.
-- note: Saving also runs the User before_save input sanitising, reproduced here for that user: trailing slashes removed from settings.immich_url / settings.photoprism_url, whitespace stripped from settings.maps.url. updated_at (UTC) changes only if something changes.
-- note: Precondition (Ruby raises, migration rolls back): that user's settings NULL (the sanitising dereferences it; here admin is set anyway), blank email (presence validation; not checked here).

UPDATE users AS u
SET admin = true,
    settings = n.settings,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT u0.id, s3.v AS settings
  FROM users AS u0
  CROSS JOIN LATERAL (SELECT u0.settings AS v) AS s0
  -- before_save User#sanitize_input: strip trailing slashes from immich_url and photoprism_url,
  -- strip surrounding whitespace from maps.url (only when they are JSON strings)
  CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s0.v -> 'immich_url') = 'string'
                                  THEN jsonb_set(s0.v, '{immich_url}', to_jsonb(regexp_replace(s0.v ->> 'immich_url', '/+$', '')))
                                  ELSE s0.v END AS v) AS s1
  CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s1.v -> 'photoprism_url') = 'string'
                                  THEN jsonb_set(s1.v, '{photoprism_url}', to_jsonb(regexp_replace(s1.v ->> 'photoprism_url', '/+$', '')))
                                  ELSE s1.v END AS v) AS s2
  CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s2.v -> 'maps' -> 'url') = 'string'
                                  THEN jsonb_set(s2.v, '{maps,url}', to_jsonb(btrim(s2.v -> 'maps' ->> 'url', E' \t\n\x0B\f\r')))
                                  ELSE s2.v END AS v) AS s3
  WHERE u0.id = (SELECT f.id FROM users AS f WHERE f.deleted_at IS NULL ORDER BY f.id LIMIT 1)
) AS n
WHERE u.id = n.id
  AND (u.admin IS DISTINCT FROM true OR u.settings IS DISTINCT FROM n.settings);
