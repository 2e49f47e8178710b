-- version: 20240724141417
-- name: add_visit_settings_to_user
-- kind: data
-- release: 0.9.5
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- note: Rails: every user of the default scope (deleted_at IS NULL) gets time_threshold_minutes = 30 and merge_threshold_minutes = 15 (numbers) merged into settings and is saved with validations.
-- note: The Rails hash merge overwrites an existing key (the symbol key serialises to the same JSON key and the later one wins), so this is settings || '{"time_threshold_minutes": 30, "merge_threshold_minutes": 15}', with exactly these JSON types.
-- note: Saving also runs the User before_save input sanitising, reproduced here: trailing slashes removed from settings.immich_url / settings.photoprism_url, whitespace stripped from settings.maps.url.
-- note: updated_at (UTC) changes only for users whose settings actually change, as with Rails partial writes.
-- note: Precondition (Ruby raises and the whole migration rolls back): settings NULL or not a JSON object (skipped here), immich_url/photoprism_url neither string nor null (left as is here), blank email (presence validation; not checked here; Devise format and uniqueness checks only run when the email changes).

-- settings.merge(...) then sanitize_input, for every non-deleted user; rows already equal are skipped.
UPDATE users AS u
SET settings = n.settings,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT u0.id, s3.v AS settings
  FROM users AS u0
  CROSS JOIN LATERAL (SELECT u0.settings || '{"time_threshold_minutes": 30, "merge_threshold_minutes": 15}'::jsonb AS v) AS s0
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
  WHERE u0.deleted_at IS NULL
    AND jsonb_typeof(u0.settings) = 'object'
) AS n
WHERE u.id = n.id
  AND u.settings IS DISTINCT FROM n.settings;
