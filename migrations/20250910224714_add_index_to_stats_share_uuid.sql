-- version: 20250910224714
-- name: add_index_to_stats_share_uuid
-- kind: schema
-- release: 0.32.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (Rails has none) so a rerun after a failed build converges.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_stats_on_sharing_uuid ON stats (sharing_uuid);
