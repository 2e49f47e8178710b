-- version: 20260421200001
-- name: add_partial_unique_index_on_users_provider_uid
-- kind: schema
-- release: 1.7.1
-- transaction: false
-- changes-data: false
-- note: Shipped in 1.7.1, after 1.7.0 had already shipped a later version (out of order).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_provider_and_uid_present ON users (provider, uid) WHERE provider IS NOT NULL AND uid IS NOT NULL;
