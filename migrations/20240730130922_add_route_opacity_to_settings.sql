-- version: 20240730130922
-- name: add_route_opacity_to_settings
-- kind: data
-- release: 0.9.9
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- note: Rails: every user of the default scope (deleted_at IS NULL) gets route_opacity = 20 (number) merged into settings and is saved with validations.
-- note: The Rails hash merge overwrites an existing key (the symbol key serialises to the same JSON key and the later one wins), so this is settings || '{"route_opacity": 20}', with exactly these JSON types.
-- note: Saving also runs the User before_save input sanitising, reproduced here: trailing slashes removed from settings.immich_url / settings.photoprism_url, whitespace stripped from settings.maps.url.
-- note: updated_at (UTC) changes only for users whose settings actually change, as with Rails partial writes.
-- note: Precondition (Ruby raises and the whole migration rolls back): settings NULL or not a JSON object (skipped here), immich_url/photoprism_url neither string nor null (left as is here), blank email (presence validation; not checked here; Devise format and uniqueness checks only run when the email changes).
-- note: Deviation: the Ruby leaves route_opacity = 20 (a percentage). When this data migration is pending, schema migration 20260314000001 was pending in the same upgrade, and the DataMigrations::FixRouteOpacityJob it enqueues runs in Sidekiq only after data:migrate, turning every value above 1 into value / 100. Done at schema-migration time in SQL it would run before this file and leave the 20, so this file writes the job's result directly: route_opacity = 0.2 (a JSON number, as the job's float division gives). updated_at still moves only for users whose settings the Rails save itself would change.

-- Merge then sanitize (what the Rails save writes), then the FixRouteOpacityJob replay (see note).
-- updated_at moves only when the Rails save itself changes settings; rows already final are skipped.
UPDATE users AS u
SET settings = n.settings,
    updated_at = CASE WHEN n.saved IS DISTINCT FROM u.settings THEN (now() AT TIME ZONE 'UTC') ELSE u.updated_at END
FROM (
  SELECT u0.id, s3.v AS saved, s4.v AS settings
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
  -- FixRouteOpacityJob: a route_opacity above 1 is a percentage and becomes value / 100 (20 -> 0.2)
  CROSS JOIN LATERAL (SELECT CASE WHEN (s3.v ->> 'route_opacity')::float > 1
                                  THEN jsonb_set(s3.v, '{route_opacity}', to_jsonb((s3.v ->> 'route_opacity')::float / 100.0))
                                  ELSE s3.v END AS v) AS s4
  WHERE u0.deleted_at IS NULL
    AND jsonb_typeof(u0.settings) = 'object'
) AS n
WHERE u.id = n.id
  AND u.settings IS DISTINCT FROM n.settings;
