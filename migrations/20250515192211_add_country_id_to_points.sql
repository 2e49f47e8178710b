-- version: 20250515192211
-- name: add_country_id_to_points
-- kind: schema
-- release: 0.26.1
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added to both statements (Rails has none) so a rerun after a partial run converges; no foreign key, as in Rails.
ALTER TABLE points ADD COLUMN IF NOT EXISTS country_id bigint;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_country_id ON points (country_id);
