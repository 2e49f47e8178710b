-- version: 20260426204917
-- name: drop_unused_subscription_source_index
-- kind: schema
-- release: 1.7.0
-- transaction: false
-- changes-data: false
DROP INDEX CONCURRENTLY IF EXISTS index_users_on_subscription_source;
