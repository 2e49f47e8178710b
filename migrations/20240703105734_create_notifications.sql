-- version: 20240703105734
-- name: create_notifications
-- kind: schema
-- release: 0.8.3
-- transaction: true
-- changes-data: false

CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  title character varying NOT NULL,
  content text NOT NULL,
  user_id bigint NOT NULL,
  kind integer DEFAULT 0 NOT NULL,
  read_at timestamp(6) without time zone,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL,
  CONSTRAINT fk_rails_b080fb4855 FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX index_notifications_on_user_id ON notifications (user_id);
CREATE INDEX index_notifications_on_kind ON notifications (kind);
