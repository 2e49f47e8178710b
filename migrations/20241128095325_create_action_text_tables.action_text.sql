-- version: 20241128095325
-- name: create_action_text_tables.action_text
-- kind: schema
-- release: 0.18.0
-- transaction: true
-- changes-data: false
-- note: Migration[6.0]: t.timestamps still passes precision 6 explicitly, so created_at/updated_at are timestamp(6), as in schema.rb.

CREATE TABLE action_text_rich_texts (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  body text,
  record_type character varying NOT NULL,
  record_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX index_action_text_rich_texts_uniqueness ON action_text_rich_texts (record_type, record_id, name);
