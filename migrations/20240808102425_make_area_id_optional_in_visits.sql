-- version: 20240808102425
-- name: make_area_id_optional_in_visits
-- kind: schema
-- release: 0.12.0
-- transaction: true
-- changes-data: false

ALTER TABLE visits ALTER COLUMN area_id DROP NOT NULL;
