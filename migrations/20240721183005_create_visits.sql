-- version: 20240721183005
-- name: create_visits
-- kind: schema
-- release: 0.9.5
-- transaction: true
-- changes-data: false

CREATE TABLE visits (
  id bigserial PRIMARY KEY,
  area_id bigint NOT NULL,
  user_id bigint NOT NULL,
  started_at timestamp(6) without time zone NOT NULL,
  ended_at timestamp(6) without time zone NOT NULL,
  duration integer NOT NULL,
  name character varying NOT NULL,
  status integer DEFAULT 0 NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_5e6ebcb55c FOREIGN KEY (area_id) REFERENCES areas (id),
  CONSTRAINT fk_rails_09e5e7c20b FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_visits_on_area_id ON visits (area_id);
CREATE INDEX index_visits_on_user_id ON visits (user_id);
