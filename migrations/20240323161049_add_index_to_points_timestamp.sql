-- version: 20240323161049
-- name: add_index_to_points_timestamp
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE INDEX index_points_on_timestamp ON points ("timestamp");
