-- version: 20240721183116
-- name: add_visit_id_to_points
-- kind: schema
-- release: 0.9.5
-- transaction: true
-- changes-data: false

ALTER TABLE points ADD COLUMN visit_id bigint;
CREATE INDEX index_points_on_visit_id ON points (visit_id);
ALTER TABLE points ADD CONSTRAINT fk_rails_22278038dd FOREIGN KEY (visit_id) REFERENCES visits (id);
