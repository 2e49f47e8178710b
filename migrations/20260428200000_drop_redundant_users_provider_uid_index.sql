-- version: 20260428200000
-- name: drop_redundant_users_provider_uid_index
-- kind: schema
-- release: 1.7.1
-- transaction: false
-- changes-data: false
DROP INDEX CONCURRENTLY IF EXISTS index_users_on_provider_and_uid;
