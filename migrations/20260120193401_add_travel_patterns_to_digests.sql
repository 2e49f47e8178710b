-- version: 20260120193401
-- name: add_travel_patterns_to_digests
-- kind: schema
-- release: 1.0.2
-- transaction: true
-- changes-data: false
ALTER TABLE digests ADD COLUMN IF NOT EXISTS travel_patterns jsonb DEFAULT '{}';
