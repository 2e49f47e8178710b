-- version: 20251118204141
-- name: add_privacy_radius_to_tags
-- kind: schema
-- release: 0.36.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added to both statements (Rails has none) so a rerun after a partial run converges.
ALTER TABLE tags ADD COLUMN IF NOT EXISTS privacy_radius_meters integer;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_tags_on_privacy_radius_meters ON tags (privacy_radius_meters) WHERE privacy_radius_meters IS NOT NULL;
