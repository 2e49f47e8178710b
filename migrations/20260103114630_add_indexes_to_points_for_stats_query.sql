-- version: 20260103114630
-- name: add_indexes_to_points_for_stats_query
-- kind: schema
-- release: 0.37.2
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_user_id_and_reverse_geocoded_at ON points (user_id, reverse_geocoded_at) WHERE reverse_geocoded_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_user_id_and_empty_geodata ON points (user_id, geodata) WHERE geodata = '{}'::jsonb;
