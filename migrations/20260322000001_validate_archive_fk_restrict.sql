-- version: 20260322000001
-- name: validate_archive_fk_restrict
-- kind: schema
-- release: 1.4.0
-- transaction: true
-- changes-data: false
-- note: Scans points (SHARE UPDATE EXCLUSIVE); fails, as in Rails, when a point's raw_data_archive_id names a missing archive.
ALTER TABLE points VALIDATE CONSTRAINT fk_rails_98d7bdf4ad;
