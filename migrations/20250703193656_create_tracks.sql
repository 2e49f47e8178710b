-- version: 20250703193656
-- name: create_tracks
-- kind: schema
-- release: 0.30.0
-- transaction: true
-- changes-data: false
CREATE TABLE tracks (
  id bigserial PRIMARY KEY,
  start_at timestamp(6) without time zone NOT NULL,
  end_at timestamp(6) without time zone NOT NULL,
  user_id bigint NOT NULL,
  original_path geometry(LineString) NOT NULL,
  distance numeric(8,2),
  avg_speed double precision,
  duration integer,
  elevation_gain integer,
  elevation_loss integer,
  elevation_max integer,
  elevation_min integer,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_a9ae83adcc FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_tracks_on_user_id ON tracks (user_id);
