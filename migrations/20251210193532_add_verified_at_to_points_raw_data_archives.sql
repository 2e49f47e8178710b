-- version: 20251210193532
-- name: add_verified_at_to_points_raw_data_archives
-- kind: schema
-- release: 0.36.3
-- transaction: true
-- changes-data: false
ALTER TABLE points_raw_data_archives ADD verified_at timestamp(6) without time zone;
