-- version: 20260301201446
-- name: add_plan_to_users
-- kind: schema
-- release: 1.3.2
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD plan integer DEFAULT 1 NOT NULL;
CREATE INDEX index_users_on_plan ON users (plan);
