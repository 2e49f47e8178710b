-- version: 20251118210506
-- name: add_note_to_places
-- kind: schema
-- release: 0.36.0
-- transaction: true
-- changes-data: false
ALTER TABLE places ADD COLUMN IF NOT EXISTS note text;
