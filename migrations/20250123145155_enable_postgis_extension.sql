-- version: 20250123145155
-- name: enable_postgis_extension
-- kind: schema
-- release: 0.23.6
-- transaction: true
-- changes-data: false
-- note: Needs the PostGIS binaries on the database server and a role allowed to create the extension (superuser or database owner on trusted installs).

CREATE EXTENSION IF NOT EXISTS postgis;
