-- version: 20260420190307
-- name: add_subscription_source_and_signup_variant_to_users
-- kind: schema
-- release: 1.7.0
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD COLUMN IF NOT EXISTS subscription_source integer DEFAULT 0 NOT NULL;
ALTER TABLE users ADD COLUMN IF NOT EXISTS signup_variant character varying;
