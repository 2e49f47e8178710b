-- version: 20260421230359
-- name: add_concurrent_indexes_for_subscription_lookup
-- kind: schema
-- release: 1.7.0
-- transaction: false
-- changes-data: false
-- note: Dropped again by 20260426204917.
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_subscription_source ON users (subscription_source);
