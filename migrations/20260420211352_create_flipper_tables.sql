-- version: 20260420211352
-- name: create_flipper_tables
-- kind: schema
-- release: 1.7.0
-- transaction: true
-- changes-data: false
-- note: The Ruby guards each step (table_exists?, index_name_exists?); IF NOT EXISTS does the same here. The index length option (value: 255) is ignored by PostgreSQL, as in Rails.
CREATE TABLE IF NOT EXISTS flipper_features (
  id bigserial PRIMARY KEY,
  key character varying NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_flipper_features_on_key ON flipper_features (key);
CREATE TABLE IF NOT EXISTS flipper_gates (
  id bigserial PRIMARY KEY,
  feature_key character varying NOT NULL,
  key character varying NOT NULL,
  value text,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_flipper_gates_on_feature_key_and_key_and_value ON flipper_gates (feature_key, key, value);
