-- version: 20251030190924
-- name: add_utm_parameters_to_users
-- kind: schema
-- release: 0.34.1
-- transaction: true
-- changes-data: false
ALTER TABLE users ADD utm_source character varying;
ALTER TABLE users ADD utm_medium character varying;
ALTER TABLE users ADD utm_campaign character varying;
ALTER TABLE users ADD utm_term character varying;
ALTER TABLE users ADD utm_content character varying;
