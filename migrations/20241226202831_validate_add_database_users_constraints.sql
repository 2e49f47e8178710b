-- version: 20241226202831
-- name: validate_add_database_users_constraints
-- kind: schema
-- release: 0.23.5
-- transaction: true
-- changes-data: false

ALTER TABLE users VALIDATE CONSTRAINT users_email_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_null;
