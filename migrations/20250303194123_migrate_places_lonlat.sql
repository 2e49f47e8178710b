-- version: 20250303194123
-- name: migrate_places_lonlat
-- kind: data
-- release: 0.25.0
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- job: DataMigrations::MigratePlacesLonlatJob, one per user of the default scope; done here in SQL: places reached through a visit of a non-deleted user (visits.place_id) whose lonlat is NULL get lonlat = POINT(longitude latitude), SRID 4326 (update_column, no updated_at).
-- note: As in the Ruby, places not referenced by any visit of a non-deleted user keep lonlat NULL.

-- phase: job
UPDATE places AS pl
SET lonlat = ST_SetSRID(ST_MakePoint(pl.longitude, pl.latitude), 4326)::geography
WHERE pl.lonlat IS NULL
  AND pl.longitude IS NOT NULL
  AND pl.latitude IS NOT NULL
  AND EXISTS (SELECT 1
              FROM visits AS v
              JOIN users AS u ON u.id = v.user_id AND u.deleted_at IS NULL
              WHERE v.place_id = pl.id);
