-- version: 20251116184520
-- name: create_taggings
-- kind: schema
-- release: 0.36.0
-- transaction: true
-- changes-data: false
CREATE TABLE taggings (
  id bigserial PRIMARY KEY,
  taggable_type character varying NOT NULL,
  taggable_id bigint NOT NULL,
  tag_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_9fcd2e236b FOREIGN KEY (tag_id) REFERENCES tags (id)
);
CREATE INDEX index_taggings_on_taggable ON taggings (taggable_type, taggable_id);
CREATE INDEX index_taggings_on_tag_id ON taggings (tag_id);
CREATE UNIQUE INDEX index_taggings_on_taggable_and_tag ON taggings (taggable_type, taggable_id, tag_id);
