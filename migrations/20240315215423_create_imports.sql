-- version: 20240315215423
-- name: create_imports
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE TABLE imports (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  user_id bigint NOT NULL,
  source integer DEFAULT 0,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_imports_on_user_id ON imports (user_id);
CREATE INDEX index_imports_on_source ON imports (source);
