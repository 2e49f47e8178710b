-- version: 20240822094532
-- name: add_counter_cache_to_imports
-- kind: data
-- release: 0.12.0
-- transaction: true
-- changes-data: true
-- needs: 20240822092405
-- note: Rails resets the points counter cache of every import: imports.points_count = number of points with that import_id, written (update_all, no updated_at) only where it differs.

UPDATE imports AS i
SET points_count = c.n
FROM (
  SELECT i0.id, (SELECT count(*) FROM points AS p WHERE p.import_id = i0.id) AS n
  FROM imports AS i0
) AS c
WHERE i.id = c.id
  AND i.points_count IS DISTINCT FROM c.n;
