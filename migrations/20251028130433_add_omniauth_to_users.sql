-- version: 20251028130433
-- name: add_omniauth_to_users
-- kind: schema
-- release: 0.36.0
-- transaction: false
-- changes-data: false
ALTER TABLE users ADD COLUMN IF NOT EXISTS provider character varying;
ALTER TABLE users ADD COLUMN IF NOT EXISTS uid character varying;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_provider_and_uid ON users (provider, uid);
