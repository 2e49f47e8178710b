-- version: 20240721165313
-- name: create_areas
-- kind: schema
-- release: 0.9.5
-- transaction: true
-- changes-data: false

CREATE TABLE areas (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  user_id bigint NOT NULL,
  longitude numeric(10,6) NOT NULL,
  latitude numeric(10,6) NOT NULL,
  radius integer NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_64ba63583c FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_areas_on_user_id ON areas (user_id);
