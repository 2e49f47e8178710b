-- version: 20250926220158
-- name: create_family_invitations
-- kind: schema
-- release: 0.34.0
-- transaction: true
-- changes-data: false
CREATE TABLE family_invitations (
  id bigserial PRIMARY KEY,
  family_id bigint NOT NULL,
  email character varying NOT NULL,
  token character varying NOT NULL,
  expires_at timestamp(6) without time zone NOT NULL,
  invited_by_id bigint NOT NULL,
  status integer DEFAULT 0 NOT NULL,
  created_at timestamp(6) without time zone NOT NULL,
  updated_at timestamp(6) without time zone NOT NULL
);
ALTER TABLE family_invitations ADD CONSTRAINT fk_rails_943507cd04 FOREIGN KEY (family_id) REFERENCES families (id);
ALTER TABLE family_invitations ADD CONSTRAINT fk_rails_d2f7db596b FOREIGN KEY (invited_by_id) REFERENCES users (id);
CREATE UNIQUE INDEX index_family_invitations_on_token ON family_invitations (token);
CREATE INDEX index_family_invitations_on_family_id_and_email ON family_invitations (family_id, email);
CREATE INDEX index_family_invitations_on_family_status_expires ON family_invitations (family_id, status, expires_at);
CREATE INDEX index_family_invitations_on_status_and_expires_at ON family_invitations (status, expires_at);
CREATE INDEX index_family_invitations_on_status_and_updated_at ON family_invitations (status, updated_at);
