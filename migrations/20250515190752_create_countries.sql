-- version: 20250515190752
-- name: create_countries
-- kind: schema
-- release: 0.26.1
-- transaction: true
-- changes-data: false
-- note: Creates the table only; its rows are seeded by Dawarich's own db:seed at the next start.
CREATE TABLE countries (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  iso_a2 character varying NOT NULL,
  iso_a3 character varying NOT NULL,
  geom geometry(MultiPolygon,4326),
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_countries_on_name ON countries (name);
CREATE INDEX index_countries_on_iso_a2 ON countries (iso_a2);
CREATE INDEX index_countries_on_iso_a3 ON countries (iso_a3);
CREATE INDEX index_countries_on_geom ON countries USING gist (geom);
