-- version: 20260322000002
-- name: drop_unused_points_indexes
-- kind: schema
-- release: 1.5.0
-- transaction: true
-- changes-data: false
-- note: Plain DROP INDEX inside the migration transaction, as in Rails (brief ACCESS EXCLUSIVE lock on points).
DROP INDEX IF EXISTS index_points_on_country_id;
DROP INDEX IF EXISTS index_points_on_archived_uncleared;
DROP INDEX IF EXISTS index_points_on_archived_true;
