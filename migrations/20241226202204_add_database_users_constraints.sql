-- version: 20241226202204
-- name: add_database_users_constraints
-- kind: schema
-- release: 0.23.5
-- transaction: true
-- changes-data: false

ALTER TABLE users ADD CONSTRAINT users_email_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users ADD CONSTRAINT users_admin_null CHECK (admin IS NOT NULL) NOT VALID;
