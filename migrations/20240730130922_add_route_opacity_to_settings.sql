-- version: 20240730130922
-- name: add_route_opacity_to_settings
-- kind: data
-- release: 0.9.9
-- transaction: true
-- changes-data: true
-- note: Rails: every user of the default scope (deleted_at IS NULL) gets route_opacity = 20 (number) merged into settings and is saved with validations.
-- note: The Rails hash merge overwrites an existing key (the symbol key serialises to the same JSON key and the later one wins), so this is settings || '{"route_opacity": 20}', with exactly these JSON types.
-- note: Saving also runs the User before_save input sanitising, reproduced here: trailing slashes removed from settings.immich_url / settings.photoprism_url, whitespace stripped from settings.maps.url.
-- note: updated_at (UTC) changes only for users whose settings actually change, as with Rails partial writes.
-- note: Precondition (Ruby raises and the whole migration rolls back): settings NULL or not a JSON object (skipped here), immich_url/photoprism_url neither string nor null (left as is here), invalid or duplicate email (Devise validatable; not checked here).
-- note: Deviation (second statement): the Ruby leaves route_opacity = 20 (a percentage). When this data migration is pending, schema migration 20260314000001 was pending in the same upgrade, and the DataMigrations::FixRouteOpacityJob it enqueues runs in Sidekiq only after data:migrate, turning every value > 1 into value / 100 (20 -> 0.2). If that job's work was done in SQL at schema-migration time it would run before this file and the 20 would stay; so this file replays the job's UPDATE right after (idempotent: 0.2 is not > 1).
-- note: The replay skips non-numeric route_opacity strings, on which the job's ::float cast would raise.

-- settings.merge(...) then sanitize_input, for every non-deleted user; rows already equal are skipped.
UPDATE users AS u
SET settings = n.settings,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT u0.id, s3.v AS settings
  FROM users AS u0
  CROSS JOIN LATERAL (SELECT u0.settings || '{"route_opacity": 20}'::jsonb AS v) AS s0
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

-- Replay of DataMigrations::FixRouteOpacityJob (enqueued by schema migration 20260314000001; in
-- Dawarich it runs after data:migrate): default scope, update_all, so no updated_at change.
UPDATE users
SET settings = jsonb_set(settings, '{route_opacity}', to_jsonb((settings ->> 'route_opacity')::float / 100.0))
WHERE deleted_at IS NULL
  AND jsonb_typeof(settings) = 'object'
  AND CASE WHEN jsonb_typeof(settings -> 'route_opacity') IN ('number', 'string')
            AND (settings ->> 'route_opacity') ~ '^[[:space:]]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[[:space:]]*$'
           THEN (settings ->> 'route_opacity')::float > 1
           ELSE false END;
