-- version: 20240315213523
-- name: create_points
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE TABLE points (
  id bigserial PRIMARY KEY,
  battery_status integer,
  ping character varying,
  battery integer,
  tracker_id character varying,
  topic character varying,
  altitude integer,
  longitude numeric(10,6),
  velocity character varying,
  "trigger" integer,
  bssid character varying,
  ssid character varying,
  connection integer,
  vertical_accuracy integer,
  accuracy integer,
  "timestamp" integer,
  latitude numeric(10,6),
  mode integer,
  inrids text[] DEFAULT '{}',
  in_regions text[] DEFAULT '{}',
  raw_data jsonb DEFAULT '{}',
  import_id bigint,
  city character varying,
  country character varying,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_points_on_battery_status ON points (battery_status);
CREATE INDEX index_points_on_battery ON points (battery);
CREATE INDEX index_points_on_altitude ON points (altitude);
CREATE INDEX index_points_on_trigger ON points ("trigger");
CREATE INDEX index_points_on_connection ON points (connection);
CREATE INDEX index_points_on_import_id ON points (import_id);
CREATE INDEX index_points_on_city ON points (city);
CREATE INDEX index_points_on_country ON points (country);
