-- version: 20260328205912
-- name: add_devise_lockable_to_users
-- kind: schema
-- release: 1.6.0
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD failed_attempts integer DEFAULT 0 NOT NULL;
ALTER TABLE users ADD locked_at timestamp(6) without time zone;
ALTER TABLE users ADD unlock_token character varying;
CREATE UNIQUE INDEX index_users_on_unlock_token ON users (unlock_token);
