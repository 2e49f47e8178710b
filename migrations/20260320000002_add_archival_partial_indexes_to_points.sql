-- version: 20260320000002
-- name: add_archival_partial_indexes_to_points
-- kind: schema
-- release: 1.4.0
-- transaction: false
-- changes-data: false
-- note: index_points_on_archived_uncleared is dropped again by 20260322000002.
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_unarchived ON points (user_id, id) WHERE raw_data_archived = false AND raw_data != '{}';
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_archived_uncleared ON points (user_id, id) WHERE raw_data_archived = true AND raw_data != '{}';
