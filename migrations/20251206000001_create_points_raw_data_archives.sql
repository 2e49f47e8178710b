-- version: 20251206000001
-- name: create_points_raw_data_archives
-- kind: schema
-- release: 0.36.3
-- transaction: true
-- changes-data: false
CREATE TABLE points_raw_data_archives (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  year integer NOT NULL,
  month integer NOT NULL,
  chunk_number integer DEFAULT 1 NOT NULL,
  point_count integer NOT NULL,
  point_ids_checksum character varying NOT NULL,
  metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
  archived_at timestamp(6) without time zone NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
CREATE INDEX index_points_raw_data_archives_on_user_id ON points_raw_data_archives (user_id);
CREATE INDEX index_points_raw_data_archives_on_user_id_and_year_and_month ON points_raw_data_archives (user_id, year, month);
CREATE INDEX index_points_raw_data_archives_on_archived_at ON points_raw_data_archives (archived_at);
ALTER TABLE points_raw_data_archives ADD CONSTRAINT fk_rails_dc90211ee5 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
