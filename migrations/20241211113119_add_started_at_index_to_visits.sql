-- version: 20241211113119
-- name: add_started_at_index_to_visits
-- kind: schema
-- release: 0.19.6
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (the Ruby has none) so that a rerun after a partial attempt succeeds.

CREATE INDEX CONCURRENTLY IF NOT EXISTS index_visits_on_started_at ON visits (started_at);
