-- version: 20250926220114
-- name: create_families
-- kind: schema
-- release: 0.34.0
-- transaction: true
-- changes-data: false
CREATE TABLE families (
  id bigserial PRIMARY KEY,
  name character varying(50) NOT NULL,
  creator_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
ALTER TABLE families ADD CONSTRAINT fk_rails_3ef59c2ec7 FOREIGN KEY (creator_id) REFERENCES users (id);
CREATE INDEX index_families_on_creator_id ON families (creator_id);
