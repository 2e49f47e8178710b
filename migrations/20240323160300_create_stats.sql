-- version: 20240323160300
-- name: create_stats
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE TABLE stats (
  id bigserial PRIMARY KEY,
  year integer NOT NULL,
  month integer NOT NULL,
  distance integer NOT NULL,
  toponyms jsonb,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_stats_on_year ON stats (year);
CREATE INDEX index_stats_on_month ON stats (month);
CREATE INDEX index_stats_on_distance ON stats (distance);
