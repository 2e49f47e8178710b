-- version: 20250518173936
-- name: fix_france_codes
-- kind: data
-- release: 0.26.2
-- transaction: true
-- changes-data: true
-- note: Rails: the country named 'France' (if any) gets iso_a2 'FR' and iso_a3 'FRA', saved with validations but without raising (a country without geom is silently left alone); updated_at (UTC) only when a value changes. Nothing happens while countries is empty (it is seeded by db:seed after data:migrate).
-- note: Rails takes an arbitrary row when several are named France (no ORDER BY); here the lowest id.

UPDATE countries AS c
SET iso_a2 = 'FR',
    iso_a3 = 'FRA',
    updated_at = (now() AT TIME ZONE 'UTC')
WHERE c.id = (SELECT f.id FROM countries AS f WHERE f.name = 'France' ORDER BY f.id LIMIT 1)
  AND c.geom IS NOT NULL
  AND (c.iso_a2 IS DISTINCT FROM 'FR' OR c.iso_a3 IS DISTINCT FROM 'FRA');
