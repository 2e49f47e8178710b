-- version: 20251116184514
-- name: create_tags
-- kind: schema
-- release: 0.36.0
-- transaction: true
-- changes-data: false
CREATE TABLE tags (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  icon character varying,
  color character varying,
  user_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_e689f6d0cc FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_tags_on_user_id ON tags (user_id);
CREATE UNIQUE INDEX index_tags_on_user_id_and_name ON tags (user_id, name);
