-- version: 20240805150111
-- name: create_places
-- kind: schema
-- release: 0.12.0
-- transaction: true
-- changes-data: false

CREATE TABLE places (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  longitude numeric(10,6) NOT NULL,
  latitude numeric(10,6) NOT NULL,
  city character varying,
  country character varying,
  source integer DEFAULT 0,
  geodata jsonb DEFAULT '{}' NOT NULL,
  reverse_geocoded_at timestamp(6) without time zone,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
