-- version: 20240323190039
-- name: add_user_id_to_stat
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

ALTER TABLE stats ADD COLUMN user_id bigint NOT NULL;
CREATE INDEX index_stats_on_user_id ON stats (user_id);
ALTER TABLE stats ADD CONSTRAINT fk_rails_9e94901167 FOREIGN KEY (user_id) REFERENCES users (id);
