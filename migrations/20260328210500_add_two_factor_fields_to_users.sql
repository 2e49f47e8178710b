-- version: 20260328210500
-- name: add_two_factor_fields_to_users
-- kind: schema
-- release: 1.6.0
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD otp_secret character varying;
ALTER TABLE users ADD consumed_timestep integer;
ALTER TABLE users ADD otp_required_for_login boolean DEFAULT false NOT NULL;
ALTER TABLE users ADD otp_backup_codes text[];
