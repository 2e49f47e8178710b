-- version: 20250926220135
-- name: create_family_memberships
-- kind: schema
-- release: 0.34.0
-- transaction: true
-- changes-data: false
CREATE TABLE family_memberships (
  id bigserial PRIMARY KEY,
  family_id bigint NOT NULL,
  user_id bigint NOT NULL,
  role integer DEFAULT 1 NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
ALTER TABLE family_memberships ADD CONSTRAINT fk_rails_818aa4a9f9 FOREIGN KEY (family_id) REFERENCES families (id);
ALTER TABLE family_memberships ADD CONSTRAINT fk_rails_829cfb2ffc FOREIGN KEY (user_id) REFERENCES users (id);
CREATE UNIQUE INDEX index_family_memberships_on_user_id ON family_memberships (user_id);
CREATE INDEX index_family_memberships_on_family_and_role ON family_memberships (family_id, role);
