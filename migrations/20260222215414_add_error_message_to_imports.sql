-- version: 20260222215414
-- name: add_error_message_to_imports
-- kind: schema
-- release: 1.3.0
-- transaction: true
-- changes-data: false
ALTER TABLE imports ADD error_message text;
