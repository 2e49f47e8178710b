-- version: 20240808102348
-- name: add_place_id_to_visits
-- kind: schema
-- release: 0.12.0
-- transaction: true
-- changes-data: false

ALTER TABLE visits ADD COLUMN place_id bigint;
CREATE INDEX index_visits_on_place_id ON visits (place_id);
ALTER TABLE visits ADD CONSTRAINT fk_rails_ceb146b88d FOREIGN KEY (place_id) REFERENCES places (id);
