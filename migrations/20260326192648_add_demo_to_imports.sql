-- version: 20260326192648
-- name: add_demo_to_imports
-- kind: schema
-- release: 1.5.0
-- transaction: true
-- changes-data: false
ALTER TABLE imports ADD COLUMN IF NOT EXISTS demo boolean DEFAULT false NOT NULL;
