-- version: 20250403204658
-- name: update_imports_points_count
-- kind: data
-- release: 0.25.4
-- transaction: true
-- changes-data: true
-- needs: 20260108192905
-- job: Import::UpdatePointsCountJob, one per import; done here in SQL: imports.processed = number of points of the import (not points_count), saved with validations, updated_at (UTC) only where the value changes.
-- note: The job's save is the non-raising kind, so an import failing validation is silently left alone; reproduced: owner missing or soft-deleted, blank name, name not unique for its user (case-sensitive), or a legacy-trial owner (status 2 and subscription_source 0) with a non-demo import whose attached file is larger than 11 MiB.

-- phase: job
UPDATE imports AS i
SET processed = c.n,
    updated_at = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT i0.id, (SELECT count(*) FROM points AS p WHERE p.import_id = i0.id) AS n
  FROM imports AS i0
  JOIN users AS u ON u.id = i0.user_id AND u.deleted_at IS NULL
  WHERE i0.name !~ '^[[:space:]]*$'
    AND NOT EXISTS (SELECT 1 FROM imports AS d
                    WHERE d.user_id = i0.user_id AND d.name = i0.name AND d.id <> i0.id)
    AND NOT (u.status = 2 AND u.subscription_source = 0 AND NOT i0.demo
             AND EXISTS (SELECT 1
                         FROM active_storage_attachments AS a
                         JOIN active_storage_blobs AS b ON b.id = a.blob_id
                         WHERE a.record_type = 'Import' AND a.record_id = i0.id AND a.name = 'file'
                           AND b.byte_size > 11534336))
) AS c
WHERE i.id = c.id
  AND i.processed IS DISTINCT FROM c.n;
