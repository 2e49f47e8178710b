-- version: 20250120152014
-- name: add_course_and_course_accuracy_to_points
-- kind: schema
-- release: 0.23.0
-- transaction: true
-- changes-data: false

ALTER TABLE points ADD COLUMN course numeric(8,5);
ALTER TABLE points ADD COLUMN course_accuracy numeric(8,5);
