-- version: 20250918215512
-- name: add_h3_hex_ids_to_stats
-- kind: schema
-- release: 0.33.0
-- transaction: false
-- changes-data: false
ALTER TABLE stats ADD COLUMN IF NOT EXISTS h3_hex_ids jsonb DEFAULT '{}'::jsonb;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_stats_on_h3_hex_ids ON stats USING gin (h3_hex_ids) WHERE (h3_hex_ids IS NOT NULL AND h3_hex_ids != '{}'::jsonb);
