-- version: 20260310000006
-- name: fix_tracks_original_path_srid
-- kind: schema
-- release: 1.3.3
-- transaction: true
-- changes-data: false
-- note: PostGIS UpdateGeometrySRID, as in the Ruby: it relabels the SRID (0 -> 4326 on tracks.original_path, 3857 -> 4326 on trips.path) without transforming coordinates. It alters the column type, which may rewrite the table on some PostGIS versions (the Ruby comment says it does not).
SELECT UpdateGeometrySRID('tracks', 'original_path', 4326);
SELECT UpdateGeometrySRID('trips', 'path', 4326);
