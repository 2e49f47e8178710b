-- version: 20240808121027
-- name: create_place_visits
-- kind: schema
-- release: 0.12.0
-- transaction: true
-- changes-data: false

CREATE TABLE place_visits (
  id bigserial PRIMARY KEY,
  place_id bigint NOT NULL,
  visit_id bigint NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_5237b3cc14 FOREIGN KEY (place_id) REFERENCES places (id),
  CONSTRAINT fk_rails_fa8b68cd0c FOREIGN KEY (visit_id) REFERENCES visits (id)
);
CREATE INDEX index_place_visits_on_place_id ON place_visits (place_id);
CREATE INDEX index_place_visits_on_visit_id ON place_visits (visit_id);
