-- version: 20260120193200
-- name: create_track_segments
-- kind: schema
-- release: 1.0.2
-- transaction: true
-- changes-data: false
CREATE TABLE IF NOT EXISTS track_segments (
  id bigserial PRIMARY KEY,
  track_id bigint NOT NULL,
  transportation_mode integer DEFAULT 0 NOT NULL,
  start_index integer NOT NULL,
  end_index integer NOT NULL,
  distance integer,
  duration integer,
  avg_speed double precision,
  max_speed double precision,
  avg_acceleration double precision,
  confidence integer DEFAULT 0,
  source character varying,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_ef0fcf83b4 FOREIGN KEY (track_id) REFERENCES tracks (id)
);
CREATE INDEX IF NOT EXISTS index_track_segments_on_track_id ON track_segments (track_id);
CREATE INDEX IF NOT EXISTS index_track_segments_on_transportation_mode ON track_segments (transportation_mode);
CREATE INDEX IF NOT EXISTS index_track_segments_on_track_id_and_transportation_mode ON track_segments (track_id, transportation_mode);
