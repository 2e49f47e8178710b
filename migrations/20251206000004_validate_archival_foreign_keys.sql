-- version: 20251206000004
-- name: validate_archival_foreign_keys
-- kind: schema
-- release: 0.36.3
-- transaction: true
-- changes-data: false
-- note: Validating the points foreign key scans the whole points table (SHARE UPDATE EXCLUSIVE lock; reads and writes continue).
ALTER TABLE points_raw_data_archives VALIDATE CONSTRAINT fk_rails_dc90211ee5;
ALTER TABLE points VALIDATE CONSTRAINT fk_rails_98d7bdf4ad;
