-- version: 20240815174852
-- name: add_owntracks_points_data
-- kind: data
-- release: 0.9.12
-- transaction: true
-- changes-data: true
-- note: Rails: every point of an OwnTracks import (imports.source = 1), then every point whose raw_data has the keys m and acc (SQL "raw_data -> 'm' IS NOT NULL AND raw_data -> 'acc' IS NOT NULL", so JSON null values count), is re-parsed with the 1.7.5 OwnTracks params mapping and saved with validations. The union of both sets is done here in one batched UPDATE.
-- note: Mapping (raw_data key -> column): batt -> battery, p -> ping, alt -> altitude and altitude_decimal (the 1.7.5 altitude writer sets both), acc -> accuracy, vac -> vertical_accuracy, vel -> velocity, SSID -> ssid, BSSID -> bssid, tid -> tracker_id, inrids -> inrids, inregions -> in_regions, topic -> topic; bs -> battery_status (1, 2, 3 kept, anything else or missing 0); t -> trigger (p 1, c 2, b 3, r 4, u 5, t 6, v 7, else or missing 0); conn -> connection (missing/null 0, m 0, w 1, o 2, anything else 4 = unknown).
-- note: velocity: when topic is present (non-blank), OwnTracks km/h is converted to m/s: vel (as a float, missing = 0) * 1000 / 3600 rounded to 1 decimal, as text ("1.4", "0.0"); without a topic the raw vel is stored as text.
-- note: Rails type casts reproduced: integer columns truncate numbers and parse the leading integer of strings (blank string = NULL, true/false = 1/0); string columns keep strings, write numbers as Ruby prints them (integer as is, float with at least one decimal), true/false as t/f; altitude_decimal rounds to 2 decimals. A key missing or JSON null writes NULL (inrids/in_regions too, replacing the '{}' default).
-- note: updated_at (UTC) is set only on rows where at least one of these columns changes (Rails partial writes); rows already equal are skipped, so a rerun converges.
-- note: Precondition (any such row makes the Ruby raise and roll back everything; the runner must check before running): user_id NULL or owner missing or soft-deleted ("User must exist"); timestamp NULL; lonlat NULL (always the case on a database from before 0.25.0, whose lonlat is only filled later by data migration 20250222213848, so the Ruby cannot succeed there); raw_data not a JSON object or missing lon, lat or tst (the params parser returns nothing and the Ruby crashes). This file still updates the first three kinds and skips the last.
-- note: Not reproduced (Ruby raises or writes Ruby inspect strings, practically never in OwnTracks data): vel/bs that are booleans, arrays or objects; array/object values for string columns (written as JSON text here); inrids/inregions that are not arrays (NULL here); numbers in exponent notation or beyond 15 significant digits may be formatted differently from Ruby's Float#to_s; a negative zero velocity prints "0.0" here.

-- batch: points.id
-- batch-size: 5000
UPDATE points AS p
SET battery           = n.battery,
    ping              = n.ping,
    altitude          = n.altitude,
    altitude_decimal  = n.altitude_decimal,
    accuracy          = n.accuracy,
    vertical_accuracy = n.vertical_accuracy,
    velocity          = n.velocity,
    ssid              = n.ssid,
    bssid             = n.bssid,
    tracker_id        = n.tracker_id,
    inrids            = n.inrids,
    in_regions        = n.in_regions,
    topic             = n.topic,
    battery_status    = n.battery_status,
    connection        = n.connection,
    trigger           = n.trigger,
    updated_at        = (now() AT TIME ZONE 'UTC')
FROM (
  SELECT p0.id,
         (c.int ->> 'batt')::integer  AS battery,
         c.str ->> 'p'                AS ping,
         (c.int ->> 'alt')::integer   AS altitude,
         (c.dec ->> 'alt')::numeric   AS altitude_decimal,
         (c.int ->> 'acc')::integer   AS accuracy,
         (c.int ->> 'vac')::integer   AS vertical_accuracy,
         CASE WHEN (c.present ->> 'topic')::boolean
              THEN round(((coalesce((c.flt ->> 'vel')::float8, 0) * 1000) / 3600)::numeric, 1)::text
              ELSE c.str ->> 'vel' END AS velocity,
         c.str ->> 'SSID'             AS ssid,
         c.str ->> 'BSSID'            AS bssid,
         c.str ->> 'tid'              AS tracker_id,
         a.inrids,
         a.in_regions,
         c.str ->> 'topic'            AS topic,
         CASE WHEN (c.int ->> 'bs')::integer IN (1, 2, 3) THEN (c.int ->> 'bs')::integer ELSE 0 END AS battery_status,
         CASE p0.raw_data ->> 'conn'
              WHEN 'm' THEN 0 WHEN 'w' THEN 1 WHEN 'o' THEN 2
              ELSE CASE WHEN p0.raw_data ->> 'conn' IS NULL THEN 0 ELSE 4 END
         END AS connection,
         CASE p0.raw_data ->> 't'
              WHEN 'p' THEN 1 WHEN 'c' THEN 2 WHEN 'b' THEN 3 WHEN 'r' THEN 4
              WHEN 'u' THEN 5 WHEN 't' THEN 6 WHEN 'v' THEN 7 ELSE 0
         END AS trigger
  FROM points AS p0
  -- Per key, the value as Rails would cast it: str = string column, int = integer column,
  -- dec = decimal(10,2) column, flt = String/Float#to_f, present = Object#present?
  CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(e.key, to_jsonb(
             CASE WHEN e.key IN ('p', 'vel', 'SSID', 'BSSID', 'tid', 'topic') THEN
               CASE jsonb_typeof(e.value)
                 WHEN 'string'  THEN e.value #>> '{}'
                 WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN 't' ELSE 'f' END
                 WHEN 'number'  THEN
                   CASE WHEN e.value::text !~ '[.eE]' THEN e.value::text
                        WHEN (e.value::text)::float8::text ~ '[.e]' THEN (e.value::text)::float8::text
                        ELSE (e.value::text)::float8::text || '.0' END
                 WHEN 'null'    THEN NULL
                 ELSE e.value::text
               END
             END)) AS str,
           jsonb_object_agg(e.key, to_jsonb(
             CASE WHEN e.key IN ('batt', 'alt', 'acc', 'vac', 'bs') THEN
               CASE jsonb_typeof(e.value)
                 WHEN 'number'  THEN trunc((e.value::text)::numeric)::integer
                 WHEN 'string'  THEN
                   CASE WHEN (e.value #>> '{}') ~ '^[[:space:]]*$' THEN NULL
                        ELSE coalesce(replace(substring(e.value #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                 WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN 1 ELSE 0 END
               END
             END)) AS int,
           jsonb_object_agg(e.key, to_jsonb(
             CASE WHEN e.key = 'alt' THEN
               CASE jsonb_typeof(e.value)
                 WHEN 'number'  THEN round((e.value::text)::numeric, 2)
                 WHEN 'string'  THEN
                   CASE WHEN (e.value #>> '{}') ~ '^[[:space:]]*$' THEN NULL
                        ELSE round(coalesce(substring(e.value #>> '{}' FROM '^[[:space:]]*([+-]?(?:[0-9]+(?:[.][0-9]+)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?)')::numeric, 0), 2) END
                 WHEN 'boolean' THEN CASE WHEN e.value = 'true'::jsonb THEN 1 ELSE 0 END
               END
             END)) AS dec,
           jsonb_object_agg(e.key, to_jsonb(
             CASE WHEN e.key = 'vel' THEN
               CASE jsonb_typeof(e.value)
                 WHEN 'number' THEN (e.value::text)::float8
                 WHEN 'string' THEN coalesce(substring(e.value #>> '{}' FROM '^[[:space:]]*([+-]?(?:[0-9]+(?:[.][0-9]+)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?)')::float8, 0)
                 ELSE 0
               END
             END)) AS flt,
           jsonb_object_agg(e.key, to_jsonb(
             CASE jsonb_typeof(e.value)
               WHEN 'string'  THEN (e.value #>> '{}') !~ '^[[:space:]]*$'
               WHEN 'number'  THEN true
               WHEN 'boolean' THEN e.value = 'true'::jsonb
               WHEN 'array'   THEN e.value <> '[]'::jsonb
               WHEN 'object'  THEN e.value <> '{}'::jsonb
               ELSE false
             END)) AS present
    FROM jsonb_each(p0.raw_data) AS e
    WHERE e.key IN ('batt', 'p', 'alt', 'acc', 'vac', 'vel', 'SSID', 'BSSID', 'tid', 'topic', 'bs', 'lat', 'lon', 'tst')
  ) AS c
  -- text[] columns: each array element cast like a string column
  CROSS JOIN LATERAL (
    SELECT
      CASE WHEN jsonb_typeof(p0.raw_data -> 'inrids') = 'array' THEN ARRAY(
        SELECT CASE jsonb_typeof(x.v)
                 WHEN 'string'  THEN x.v #>> '{}'
                 WHEN 'boolean' THEN CASE WHEN x.v = 'true'::jsonb THEN 't' ELSE 'f' END
                 WHEN 'number'  THEN
                   CASE WHEN x.v::text !~ '[.eE]' THEN x.v::text
                        WHEN (x.v::text)::float8::text ~ '[.e]' THEN (x.v::text)::float8::text
                        ELSE (x.v::text)::float8::text || '.0' END
                 WHEN 'null'    THEN NULL
                 ELSE x.v::text
               END
        FROM jsonb_array_elements(p0.raw_data -> 'inrids') WITH ORDINALITY AS x(v, o) ORDER BY x.o)
      END AS inrids,
      CASE WHEN jsonb_typeof(p0.raw_data -> 'inregions') = 'array' THEN ARRAY(
        SELECT CASE jsonb_typeof(x.v)
                 WHEN 'string'  THEN x.v #>> '{}'
                 WHEN 'boolean' THEN CASE WHEN x.v = 'true'::jsonb THEN 't' ELSE 'f' END
                 WHEN 'number'  THEN
                   CASE WHEN x.v::text !~ '[.eE]' THEN x.v::text
                        WHEN (x.v::text)::float8::text ~ '[.e]' THEN (x.v::text)::float8::text
                        ELSE (x.v::text)::float8::text || '.0' END
                 WHEN 'null'    THEN NULL
                 ELSE x.v::text
               END
        FROM jsonb_array_elements(p0.raw_data -> 'inregions') WITH ORDINALITY AS x(v, o) ORDER BY x.o)
      END AS in_regions
  ) AS a
  WHERE p0.id >= $1 AND p0.id < $2
    AND jsonb_typeof(p0.raw_data) = 'object'
    AND (p0.import_id IN (SELECT i.id FROM imports AS i WHERE i.source = 1)
         OR (p0.raw_data -> 'm' IS NOT NULL AND p0.raw_data -> 'acc' IS NOT NULL))
    -- the params parser only yields attributes when lon, lat and tst are present
    AND coalesce((c.present ->> 'lon')::boolean, false)
    AND coalesce((c.present ->> 'lat')::boolean, false)
    AND coalesce((c.present ->> 'tst')::boolean, false)
) AS n
WHERE p.id = n.id
  AND (p.battery, p.ping, p.altitude, p.altitude_decimal, p.accuracy, p.vertical_accuracy, p.velocity,
       p.ssid, p.bssid, p.tracker_id, p.inrids, p.in_regions, p.topic, p.battery_status, p.connection, p.trigger)
      IS DISTINCT FROM
      (n.battery, n.ping, n.altitude, n.altitude_decimal, n.accuracy, n.vertical_accuracy, n.velocity,
       n.ssid, n.bssid, n.tracker_id, n.inrids, n.in_regions, n.topic, n.battery_status, n.connection, n.trigger);
