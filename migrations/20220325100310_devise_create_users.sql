-- version: 20220325100310
-- name: devise_create_users
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email character varying DEFAULT '' NOT NULL,
  encrypted_password character varying DEFAULT '' NOT NULL,
  reset_password_token character varying,
  reset_password_sent_at timestamp(6) without time zone,
  remember_created_at timestamp(6) without time zone,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX index_users_on_email ON users (email);
CREATE UNIQUE INDEX index_users_on_reset_password_token ON users (reset_password_token);
