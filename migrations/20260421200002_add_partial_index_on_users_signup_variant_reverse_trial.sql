-- version: 20260421200002
-- name: add_partial_index_on_users_signup_variant_reverse_trial
-- kind: schema
-- release: 1.7.0
-- transaction: false
-- changes-data: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_signup_variant_reverse_trial ON users (signup_variant) WHERE signup_variant = 'reverse_trial';
