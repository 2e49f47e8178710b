-- version: 20251227000001
-- name: create_digests
-- kind: schema
-- release: 0.37.0
-- transaction: true
-- changes-data: false
CREATE TABLE digests (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  year integer NOT NULL,
  period_type integer DEFAULT 0 NOT NULL,
  distance bigint DEFAULT 0 NOT NULL,
  toponyms jsonb DEFAULT '{}'::jsonb,
  monthly_distances jsonb DEFAULT '{}'::jsonb,
  time_spent_by_location jsonb DEFAULT '{}'::jsonb,
  first_time_visits jsonb DEFAULT '{}'::jsonb,
  year_over_year jsonb DEFAULT '{}'::jsonb,
  all_time_stats jsonb DEFAULT '{}'::jsonb,
  sharing_settings jsonb DEFAULT '{}'::jsonb,
  sharing_uuid uuid,
  sent_at timestamp(6) without time zone,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_ebdc1fb287 FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_digests_on_user_id ON digests (user_id);
CREATE UNIQUE INDEX index_digests_on_user_id_and_year_and_period_type ON digests (user_id, year, period_type);
CREATE UNIQUE INDEX index_digests_on_sharing_uuid ON digests (sharing_uuid);
CREATE INDEX index_digests_on_year ON digests (year);
CREATE INDEX index_digests_on_period_type ON digests (period_type);
