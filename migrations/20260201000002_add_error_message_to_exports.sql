-- version: 20260201000002
-- name: add_error_message_to_exports
-- kind: schema
-- release: 1.1.0
-- transaction: true
-- changes-data: false
ALTER TABLE exports ADD error_message text;
