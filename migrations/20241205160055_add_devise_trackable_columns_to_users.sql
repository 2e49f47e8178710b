-- version: 20241205160055
-- name: add_devise_trackable_columns_to_users
-- kind: schema
-- release: 0.19.2
-- transaction: true
-- changes-data: false

ALTER TABLE users
  ADD COLUMN sign_in_count integer DEFAULT 0 NOT NULL,
  ADD COLUMN current_sign_in_at timestamp(6) without time zone,
  ADD COLUMN last_sign_in_at timestamp(6) without time zone,
  ADD COLUMN current_sign_in_ip character varying,
  ADD COLUMN last_sign_in_ip character varying;
