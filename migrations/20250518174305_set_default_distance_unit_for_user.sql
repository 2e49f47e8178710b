-- version: 20250518174305
-- name: set_default_distance_unit_for_user
-- kind: data
-- release: 0.26.2
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- note: Rails, for every user of the default scope (deleted_at IS NULL): skipped when settings.maps.distance_unit is already the string 'km' or 'mi'; otherwise, when settings.maps is blank (missing, null, false, empty object or blank string) it becomes {"distance_unit": "km"}, else distance_unit is set to "km" inside the existing maps object; then the user is saved with validations.
-- note: Saving also runs the User before_save input sanitising, reproduced here for the saved users only: trailing slashes removed from settings.immich_url / settings.photoprism_url, whitespace stripped from settings.maps.url. updated_at (UTC) is set for them.
-- note: Precondition (Ruby raises, migration rolls back): settings NULL or not a JSON object; settings.maps a number, true, an array or a non-blank string (skipped here); blank email (presence validation; not checked here).

UPDATE users AS u
SET settings = n.settings,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT u0.id, s3.v AS settings
  FROM users AS u0
  CROSS JOIN LATERAL (SELECT u0.settings -> 'maps' AS maps) AS m
  CROSS JOIN LATERAL (
    SELECT CASE
             WHEN jsonb_typeof(m.maps) = 'object' AND m.maps <> '{}'::jsonb
               THEN jsonb_set(u0.settings, '{maps,distance_unit}', '"km"'::jsonb)
             ELSE jsonb_set(u0.settings, '{maps}', '{"distance_unit": "km"}'::jsonb)
           END AS v) AS s0
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
    -- maps kinds the Ruby handles: blank ones are replaced, objects are updated
    AND (m.maps IS NULL
         OR jsonb_typeof(m.maps) IN ('null', 'object')
         OR m.maps = 'false'::jsonb
         OR (jsonb_typeof(m.maps) = 'string' AND (m.maps #>> '{}') ~ '^[[:space:]]*$'))
    -- already km or mi: skipped (not saved)
    AND NOT coalesce(jsonb_typeof(m.maps -> 'distance_unit') = 'string'
                     AND (m.maps ->> 'distance_unit') IN ('km', 'mi'), false)
) AS n
WHERE u.id = n.id
  AND u.settings IS DISTINCT FROM n.settings;
