-- version: 20240612152451
-- name: create_exports
-- kind: schema
-- release: 0.6.0
-- transaction: true
-- changes-data: false

CREATE TABLE exports (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  url character varying,
  status integer DEFAULT 0 NOT NULL,
  user_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_exports_on_status ON exports (status);
CREATE INDEX index_exports_on_user_id ON exports (user_id);
