-- version: 20241127161621
-- name: create_trips
-- kind: schema
-- release: 0.18.0
-- transaction: true
-- changes-data: false

CREATE TABLE trips (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  started_at timestamp(6) without time zone NOT NULL,
  ended_at timestamp(6) without time zone NOT NULL,
  distance integer,
  user_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_6a33c9e4ea FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_trips_on_user_id ON trips (user_id);
