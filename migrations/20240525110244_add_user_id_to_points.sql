-- version: 20240525110244
-- name: add_user_id_to_points
-- kind: schema
-- release: 0.4.0
-- transaction: true
-- changes-data: false

ALTER TABLE points ADD COLUMN user_id bigint;
CREATE INDEX index_points_on_user_id ON points (user_id);
ALTER TABLE points ADD CONSTRAINT fk_rails_206a3ea05e FOREIGN KEY (user_id) REFERENCES users (id);
