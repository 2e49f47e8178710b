-- version: 20250704185707
-- name: create_tracks_from_points
-- kind: data
-- release: 0.30.0
-- transaction: true
-- changes-data: false
-- note: Deprecated upstream: the 1.7.5 migration does nothing; only the version is recorded.

-- no-op
