-- version: 20240815174852
-- name: add_owntracks_points_data
-- kind: data
-- release: 0.9.12
-- transaction: true
-- changes-data: true
-- needs: 20260323000001
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
  SELECT c.id, c.battery, c.ping, c.altitude, c.altitude_decimal, c.accuracy, c.vertical_accuracy,
         CASE WHEN c.topic_present
              THEN round(((coalesce(c.vel_float, 0) * 1000) / 3600)::numeric, 1)::text
              ELSE c.vel_string END AS velocity,
         c.ssid, c.bssid, c.tracker_id, c.inrids, c.in_regions, c.topic,
         CASE WHEN c.bs IN (1, 2, 3) THEN c.bs ELSE 0 END AS battery_status,
         c.connection, c.trigger
  FROM (
    SELECT r.id,
           -- integer columns (Rails: numbers truncated; strings by their leading integer, blank = NULL; true/false = 1/0)
           CASE r.batt_type WHEN 'number' THEN trunc((r.batt #>> '{}')::numeric)::integer
                            WHEN 'string' THEN CASE WHEN (r.batt #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE coalesce(replace(substring(r.batt #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                            WHEN 'boolean' THEN CASE WHEN r.batt = 'true'::jsonb THEN 1 ELSE 0 END END AS battery,
           CASE r.alt_type WHEN 'number' THEN trunc((r.alt #>> '{}')::numeric)::integer
                           WHEN 'string' THEN CASE WHEN (r.alt #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE coalesce(replace(substring(r.alt #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                           WHEN 'boolean' THEN CASE WHEN r.alt = 'true'::jsonb THEN 1 ELSE 0 END END AS altitude,
           CASE r.acc_type WHEN 'number' THEN trunc((r.acc #>> '{}')::numeric)::integer
                           WHEN 'string' THEN CASE WHEN (r.acc #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE coalesce(replace(substring(r.acc #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                           WHEN 'boolean' THEN CASE WHEN r.acc = 'true'::jsonb THEN 1 ELSE 0 END END AS accuracy,
           CASE r.vac_type WHEN 'number' THEN trunc((r.vac #>> '{}')::numeric)::integer
                           WHEN 'string' THEN CASE WHEN (r.vac #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE coalesce(replace(substring(r.vac #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                           WHEN 'boolean' THEN CASE WHEN r.vac = 'true'::jsonb THEN 1 ELSE 0 END END AS vertical_accuracy,
           CASE r.bs_type WHEN 'number' THEN trunc((r.bs #>> '{}')::numeric)::integer
                          WHEN 'string' THEN CASE WHEN (r.bs #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE coalesce(replace(substring(r.bs #>> '{}' FROM '^[[:space:]]*([+-]?[0-9]+(?:_[0-9]+)*)'), '_', '')::integer, 0) END
                          WHEN 'boolean' THEN CASE WHEN r.bs = 'true'::jsonb THEN 1 ELSE 0 END END AS bs,
           -- decimal(10,2) column
           CASE r.alt_type WHEN 'number' THEN round((r.alt #>> '{}')::numeric, 2)
                           WHEN 'string' THEN CASE WHEN (r.alt #>> '{}') ~ '^[[:space:]]*$' THEN NULL ELSE round(coalesce(substring(r.alt #>> '{}' FROM '^[[:space:]]*([+-]?(?:[0-9]+(?:[.][0-9]+)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?)')::numeric, 0), 2) END
                           WHEN 'boolean' THEN CASE WHEN r.alt = 'true'::jsonb THEN 1 ELSE 0 END END AS altitude_decimal,
           -- velocity as a float (String/Float#to_f), and topic present?
           CASE r.vel_type WHEN 'number' THEN (r.vel #>> '{}')::float8
                           WHEN 'string' THEN coalesce(substring(r.vel #>> '{}' FROM '^[[:space:]]*([+-]?(?:[0-9]+(?:[.][0-9]+)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?)')::float8, 0) END AS vel_float,
           CASE r.topic_type WHEN 'string' THEN (r.topic #>> '{}') !~ '^[[:space:]]*$' WHEN 'number' THEN true WHEN 'boolean' THEN r.topic = 'true'::jsonb
                             WHEN 'array' THEN r.topic <> '[]'::jsonb WHEN 'object' THEN r.topic <> '{}'::jsonb ELSE false END AS topic_present,
           -- string columns (strings as they are, numbers as Ruby prints them, true/false as t/f)
           CASE r.p_type WHEN 'string' THEN r.p #>> '{}' WHEN 'boolean' THEN CASE WHEN r.p = 'true'::jsonb THEN 't' ELSE 'f' END
                         WHEN 'number' THEN CASE WHEN strpos(r.p::text, '.') = 0 THEN r.p::text WHEN (r.p::text)::float8::text ~ '[.e]' THEN (r.p::text)::float8::text ELSE (r.p::text)::float8::text || '.0' END
                         WHEN 'null' THEN NULL ELSE r.p::text END AS ping,
           CASE r.vel_type WHEN 'string' THEN r.vel #>> '{}' WHEN 'boolean' THEN CASE WHEN r.vel = 'true'::jsonb THEN 't' ELSE 'f' END
                           WHEN 'number' THEN CASE WHEN strpos(r.vel::text, '.') = 0 THEN r.vel::text WHEN (r.vel::text)::float8::text ~ '[.e]' THEN (r.vel::text)::float8::text ELSE (r.vel::text)::float8::text || '.0' END
                           WHEN 'null' THEN NULL ELSE r.vel::text END AS vel_string,
           CASE r.ssid_type WHEN 'string' THEN r.ssid #>> '{}' WHEN 'boolean' THEN CASE WHEN r.ssid = 'true'::jsonb THEN 't' ELSE 'f' END
                            WHEN 'number' THEN CASE WHEN strpos(r.ssid::text, '.') = 0 THEN r.ssid::text WHEN (r.ssid::text)::float8::text ~ '[.e]' THEN (r.ssid::text)::float8::text ELSE (r.ssid::text)::float8::text || '.0' END
                            WHEN 'null' THEN NULL ELSE r.ssid::text END AS ssid,
           CASE r.bssid_type WHEN 'string' THEN r.bssid #>> '{}' WHEN 'boolean' THEN CASE WHEN r.bssid = 'true'::jsonb THEN 't' ELSE 'f' END
                             WHEN 'number' THEN CASE WHEN strpos(r.bssid::text, '.') = 0 THEN r.bssid::text WHEN (r.bssid::text)::float8::text ~ '[.e]' THEN (r.bssid::text)::float8::text ELSE (r.bssid::text)::float8::text || '.0' END
                             WHEN 'null' THEN NULL ELSE r.bssid::text END AS bssid,
           CASE r.tid_type WHEN 'string' THEN r.tid #>> '{}' WHEN 'boolean' THEN CASE WHEN r.tid = 'true'::jsonb THEN 't' ELSE 'f' END
                           WHEN 'number' THEN CASE WHEN strpos(r.tid::text, '.') = 0 THEN r.tid::text WHEN (r.tid::text)::float8::text ~ '[.e]' THEN (r.tid::text)::float8::text ELSE (r.tid::text)::float8::text || '.0' END
                           WHEN 'null' THEN NULL ELSE r.tid::text END AS tracker_id,
           CASE r.topic_type WHEN 'string' THEN r.topic #>> '{}' WHEN 'boolean' THEN CASE WHEN r.topic = 'true'::jsonb THEN 't' ELSE 'f' END
                             WHEN 'number' THEN CASE WHEN strpos(r.topic::text, '.') = 0 THEN r.topic::text WHEN (r.topic::text)::float8::text ~ '[.e]' THEN (r.topic::text)::float8::text ELSE (r.topic::text)::float8::text || '.0' END
                             WHEN 'null' THEN NULL ELSE r.topic::text END AS topic,
           -- text[] columns: each element cast like a string column
           CASE WHEN jsonb_typeof(r.inrids) = 'array' THEN ARRAY(
             SELECT CASE jsonb_typeof(x.v) WHEN 'string' THEN x.v #>> '{}' WHEN 'boolean' THEN CASE WHEN x.v = 'true'::jsonb THEN 't' ELSE 'f' END
                      WHEN 'number' THEN CASE WHEN strpos(x.v::text, '.') = 0 THEN x.v::text WHEN (x.v::text)::float8::text ~ '[.e]' THEN (x.v::text)::float8::text ELSE (x.v::text)::float8::text || '.0' END
                      WHEN 'null' THEN NULL ELSE x.v::text END
             FROM jsonb_array_elements(r.inrids) WITH ORDINALITY AS x(v, o) ORDER BY x.o) END AS inrids,
           CASE WHEN jsonb_typeof(r.inregions) = 'array' THEN ARRAY(
             SELECT CASE jsonb_typeof(x.v) WHEN 'string' THEN x.v #>> '{}' WHEN 'boolean' THEN CASE WHEN x.v = 'true'::jsonb THEN 't' ELSE 'f' END
                      WHEN 'number' THEN CASE WHEN strpos(x.v::text, '.') = 0 THEN x.v::text WHEN (x.v::text)::float8::text ~ '[.e]' THEN (x.v::text)::float8::text ELSE (x.v::text)::float8::text || '.0' END
                      WHEN 'null' THEN NULL ELSE x.v::text END
             FROM jsonb_array_elements(r.inregions) WITH ORDINALITY AS x(v, o) ORDER BY x.o) END AS in_regions,
           CASE r.conn WHEN 'm' THEN 0 WHEN 'w' THEN 1 WHEN 'o' THEN 2 ELSE CASE WHEN r.conn IS NULL THEN 0 ELSE 4 END END AS connection,
           CASE r.t WHEN 'p' THEN 1 WHEN 'c' THEN 2 WHEN 'b' THEN 3 WHEN 'r' THEN 4 WHEN 'u' THEN 5 WHEN 't' THEN 6 WHEN 'v' THEN 7 ELSE 0 END AS trigger
    FROM (
      -- each raw value looked up once (OFFSET 0 keeps the planner from repeating the lookups)
      SELECT p0.id,
             p0.raw_data -> 'batt' AS batt, jsonb_typeof(p0.raw_data -> 'batt') AS batt_type,
             p0.raw_data -> 'alt' AS alt, jsonb_typeof(p0.raw_data -> 'alt') AS alt_type,
             p0.raw_data -> 'acc' AS acc, jsonb_typeof(p0.raw_data -> 'acc') AS acc_type,
             p0.raw_data -> 'vac' AS vac, jsonb_typeof(p0.raw_data -> 'vac') AS vac_type,
             p0.raw_data -> 'bs' AS bs, jsonb_typeof(p0.raw_data -> 'bs') AS bs_type,
             p0.raw_data -> 'vel' AS vel, jsonb_typeof(p0.raw_data -> 'vel') AS vel_type,
             p0.raw_data -> 'p' AS p, jsonb_typeof(p0.raw_data -> 'p') AS p_type,
             p0.raw_data -> 'SSID' AS ssid, jsonb_typeof(p0.raw_data -> 'SSID') AS ssid_type,
             p0.raw_data -> 'BSSID' AS bssid, jsonb_typeof(p0.raw_data -> 'BSSID') AS bssid_type,
             p0.raw_data -> 'tid' AS tid, jsonb_typeof(p0.raw_data -> 'tid') AS tid_type,
             p0.raw_data -> 'topic' AS topic, jsonb_typeof(p0.raw_data -> 'topic') AS topic_type,
             p0.raw_data -> 'inrids' AS inrids, p0.raw_data -> 'inregions' AS inregions,
             p0.raw_data ->> 'conn' AS conn, p0.raw_data ->> 't' AS t
      FROM points AS p0
      WHERE p0.id >= $1 AND p0.id < $2
        AND jsonb_typeof(p0.raw_data) = 'object'
        AND (p0.import_id IN (SELECT i.id FROM imports AS i WHERE i.source = 1)
             OR (p0.raw_data -> 'm' IS NOT NULL AND p0.raw_data -> 'acc' IS NOT NULL))
        -- the params parser only yields attributes when lon, lat and tst are present
        AND (CASE jsonb_typeof((p0.raw_data -> 'lon')) WHEN 'string' THEN ((p0.raw_data -> 'lon') #>> '{}') !~ '^[[:space:]]*$' WHEN 'number' THEN true
             WHEN 'boolean' THEN (p0.raw_data -> 'lon') = 'true'::jsonb WHEN 'array' THEN (p0.raw_data -> 'lon') <> '[]'::jsonb WHEN 'object' THEN (p0.raw_data -> 'lon') <> '{}'::jsonb ELSE false END) AND (CASE jsonb_typeof((p0.raw_data -> 'lat')) WHEN 'string' THEN ((p0.raw_data -> 'lat') #>> '{}') !~ '^[[:space:]]*$' WHEN 'number' THEN true
             WHEN 'boolean' THEN (p0.raw_data -> 'lat') = 'true'::jsonb WHEN 'array' THEN (p0.raw_data -> 'lat') <> '[]'::jsonb WHEN 'object' THEN (p0.raw_data -> 'lat') <> '{}'::jsonb ELSE false END) AND (CASE jsonb_typeof((p0.raw_data -> 'tst')) WHEN 'string' THEN ((p0.raw_data -> 'tst') #>> '{}') !~ '^[[:space:]]*$' WHEN 'number' THEN true
             WHEN 'boolean' THEN (p0.raw_data -> 'tst') = 'true'::jsonb WHEN 'array' THEN (p0.raw_data -> 'tst') <> '[]'::jsonb WHEN 'object' THEN (p0.raw_data -> 'tst') <> '{}'::jsonb ELSE false END)
      OFFSET 0
    ) AS r
  ) AS c
) AS n
WHERE p.id = n.id
  AND (p.battery, p.ping, p.altitude, p.altitude_decimal, p.accuracy, p.vertical_accuracy, p.velocity,
       p.ssid, p.bssid, p.tracker_id, p.inrids, p.in_regions, p.topic, p.battery_status, p.connection, p.trigger)
      IS DISTINCT FROM
      (n.battery, n.ping, n.altitude, n.altitude_decimal, n.accuracy, n.vertical_accuracy, n.velocity,
       n.ssid, n.bssid, n.tracker_id, n.inrids, n.in_regions, n.topic, n.battery_status, n.connection, n.trigger);
