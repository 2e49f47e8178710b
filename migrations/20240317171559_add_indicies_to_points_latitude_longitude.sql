-- version: 20240317171559
-- name: add_indicies_to_points_latitude_longitude
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

CREATE INDEX index_points_on_latitude_and_longitude ON points (latitude, longitude);
