-- version: 20260323000001
-- name: change_points_altitude_to_decimal
-- kind: schema
-- release: 1.5.0
-- transaction: true
-- changes-data: false
ALTER TABLE points ADD COLUMN IF NOT EXISTS altitude_decimal numeric(10,2);
