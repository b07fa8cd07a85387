-- 115: the crossing contract as SQL (issue 29).
--
-- trm_course: how a crossing, a validation and a speeding excess are decided from positions
-- (db-init/README.md "How a crossing is decided" states the rule in words). The processor calls
-- these functions, or implements the same rule; POST /trm/course/preview (trm-operations) calls them
-- with the course as it is and as it would be after an edit, so the preview and the processor agree
-- by construction. Every function takes its geometry and radii as arrays of *variants* and answers
-- per variant: one scan of the stage's positions serves the course before and after an edit.
-- PL/pgSQL with EXECUTE … USING: each call is planned with its own window and box (TimescaleDB
-- excludes the chunks outside the window, the box filter runs in the parallel scan of the rest).
-- Idempotent: CREATE OR REPLACE.

CREATE SCHEMA IF NOT EXISTS trm_course;
COMMENT ON SCHEMA trm_course IS 'TRM crossing contract: crossings and speeding from positions (db-init/post/115); not a Directus schema';

-- An excess counts when the speed stays above the limit this long (first to last position of the run).
CREATE OR REPLACE FUNCTION trm_course.speeding_min_seconds() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT 3';
-- A speed zone drawn as a line (and without DZ/FZ) covers this many metres on each side of it.
CREATE OR REPLACE FUNCTION trm_course.corridor_half_width_m() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT 50';

-- The stage's time window [start, end): its start time to the latest closing of its controls, or
-- 24 hours when no segment has a closing time. No row for a stage without a start time.
CREATE OR REPLACE FUNCTION trm_course.stage_window(p_stage uuid)
RETURNS TABLE (window_start timestamptz, window_end timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT st.starts_at,
           coalesce((SELECT max(s.controls_close_at) FROM segments s WHERE s.stage_id = st.id), st.starts_at + interval '24 hours')
      FROM stages st
     WHERE st.id = p_stage AND st.starts_at IS NOT NULL
$$;

-- The devices (IMEIs) of the entries of the stage's event: an entry's track is their positions.
CREATE OR REPLACE FUNCTION trm_course.stage_devices(p_stage uuid)
RETURNS TABLE (entry_id uuid, imei text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.id, d.imei
      FROM stages st
      JOIN entries e ON e.event_id = st.event_id
      JOIN entry_devices ed ON ed.entry_id = e.id
      JOIN devices d ON d.id = ed.device_id
     WHERE st.id = p_stage
$$;

-- The entries with a track in the stage: at least one non-faulty position in its window. Only they
-- can miss a waypoint.
CREATE OR REPLACE FUNCTION trm_course.stage_tracks(p_stage uuid)
RETURNS TABLE (entry_id uuid)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT DISTINCT d.entry_id
      FROM trm_course.stage_devices(p_stage) d, trm_course.stage_window(p_stage) w
     WHERE EXISTS (SELECT 1 FROM positions p
                    WHERE p.device_id = d.imei AND NOT p.faulty AND p.ts >= w.window_start AND p.ts < w.window_end)
$$;

-- Waypoint crossings, per variant (location, opening radius, validation radius): for each entry that
-- validates the waypoint, the crossing `ts` (the entry into the opening radius on the visit that
-- validated it: the first position after the last one outside the opening radius before the
-- validation, or the first of the track) with its device, and `validated_at` (the first position
-- within the validation radius). Distances: ST_Distance on geography (WGS 84 spheroid), inclusive.
-- Positions are ordered by (ts, device IMEI).
CREATE OR REPLACE FUNCTION trm_course.waypoint_crossings(
    p_stage uuid, p_location geometry[], p_open_m double precision[], p_valid_m double precision[])
RETURNS TABLE (variant integer, entry_id uuid, ts timestamptz, device_imei text, validated_at timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    w record;
    b record;
BEGIN
    SELECT * INTO w FROM trm_course.stage_window(p_stage);
    IF w.window_start IS NULL THEN
        RETURN;
    END IF;
    -- A box that holds every variant's opening circle (degrees of latitude are at least 110 km).
    SELECT min(ST_Y(l) - r / 110000.0) AS y0, max(ST_Y(l) + r / 110000.0) AS y1,
           min(ST_X(l) - r / (110000.0 * greatest(cos(radians(least(abs(ST_Y(l)) + r / 110000.0, 89.9))), 0.001))) AS x0,
           max(ST_X(l) + r / (110000.0 * greatest(cos(radians(least(abs(ST_Y(l)) + r / 110000.0, 89.9))), 0.001))) AS x1
      INTO b
      FROM (SELECT u.l, greatest(u.o, u.v) AS r FROM unnest(p_location, p_open_m, p_valid_m) AS u(l, o, v)) x;
    RETURN QUERY EXECUTE $q$
    WITH v AS MATERIALIZED (
        SELECT u.variant::integer AS variant, u.l::geography AS g, u.o AS open_m, u.r AS valid_m
          FROM unnest($4::geometry[], $5::float8[], $6::float8[]) WITH ORDINALITY AS u(l, o, r, variant)
    ),
    dev AS MATERIALIZED (SELECT * FROM trm_course.stage_devices($1)),
    cand AS MATERIALIZED (  -- one scan: the window's positions in the box
        SELECT p.device_id, p.ts, ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography AS g
          FROM positions p
         WHERE p.ts >= $2 AND p.ts < $3 AND NOT p.faulty
           AND p.latitude BETWEEN $7 AND $8 AND p.longitude BETWEEN $9 AND $10
    ),
    near AS MATERIALIZED (
        SELECT v.variant, dev.entry_id, c.device_id, c.ts, ST_Distance(c.g, v.g) AS d, v.valid_m
          FROM cand c JOIN dev ON dev.imei = c.device_id CROSS JOIN v
    ),
    val AS (  -- the validation: the first position within the validation radius
        SELECT DISTINCT ON (n.variant, n.entry_id) n.variant, n.entry_id, n.ts, n.device_id
          FROM near n WHERE n.d <= n.valid_m
         ORDER BY n.variant, n.entry_id, n.ts, n.device_id
    ),
    out_of AS (  -- the entry's last position before it that lies outside the opening radius
        SELECT val.variant, val.entry_id, val.ts AS vts, o.ts AS ots, o.device_id AS odev
          FROM val JOIN v USING (variant)
          LEFT JOIN LATERAL (
              SELECT x.ts, x.device_id FROM dev d2 CROSS JOIN LATERAL (
                  SELECT p.ts, p.device_id FROM positions p
                   WHERE p.device_id = d2.imei AND NOT p.faulty AND p.ts >= $2 AND p.ts <= val.ts
                     AND (p.ts, p.device_id) < (val.ts, val.device_id)
                     AND ST_Distance(ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography, v.g) > v.open_m
                   ORDER BY p.ts DESC LIMIT 1) x
               WHERE d2.entry_id = val.entry_id
               ORDER BY x.ts DESC, x.device_id DESC LIMIT 1) o ON true
    )
    SELECT f.variant, f.entry_id, r.ts, r.device_id, f.vts
      FROM out_of f
      CROSS JOIN LATERAL (  -- the next position: the entry into the opening radius
          SELECT y.ts, y.device_id FROM dev d3 CROSS JOIN LATERAL (
              SELECT p.ts, p.device_id FROM positions p
               WHERE p.device_id = d3.imei AND NOT p.faulty AND p.ts >= coalesce(f.ots, $2) AND p.ts < $3
                 AND (f.ots IS NULL OR (p.ts, p.device_id) > (f.ots, f.odev))
               ORDER BY p.ts LIMIT 1) y
           WHERE d3.entry_id = f.entry_id
           ORDER BY y.ts, y.device_id LIMIT 1) r
    $q$ USING p_stage, w.window_start, w.window_end, p_location, p_open_m, p_valid_m, b.y0, b.y1, b.x0, b.x1;
END
$fn$;

-- Geofence crossings, per variant (a polygon): for each entry, the first position of its track that
-- the polygon covers (boundary included), with its device.
CREATE OR REPLACE FUNCTION trm_course.geofence_crossings(p_stage uuid, p_geometry geometry[])
RETURNS TABLE (variant integer, entry_id uuid, ts timestamptz, device_imei text)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    w record;
    b box2d;
BEGIN
    SELECT * INTO w FROM trm_course.stage_window(p_stage);
    SELECT ST_Extent(g) INTO b FROM unnest(p_geometry) AS g;
    IF w.window_start IS NULL OR b IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
    WITH dev AS MATERIALIZED (SELECT * FROM trm_course.stage_devices($1)),
    cand AS MATERIALIZED (
        SELECT p.device_id, p.ts, ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326) AS g
          FROM positions p
         WHERE p.ts >= $2 AND p.ts < $3 AND NOT p.faulty
           AND p.latitude BETWEEN $5 AND $6 AND p.longitude BETWEEN $7 AND $8
    )
    SELECT DISTINCT ON (u.variant, dev.entry_id) u.variant::integer, dev.entry_id, c.ts, c.device_id
      FROM cand c JOIN dev ON dev.imei = c.device_id
      JOIN unnest($4::geometry[]) WITH ORDINALITY AS u(g, variant) ON ST_Covers(u.g, c.g)
     ORDER BY u.variant, dev.entry_id, c.ts, c.device_id
    $q$ USING p_stage, w.window_start, w.window_end, p_geometry, ST_YMin(b), ST_YMax(b), ST_XMin(b), ST_XMax(b);
END
$fn$;

-- Speeding in a zone, per variant (geometry, limit, DZ location and validation radius, FZ location and
-- validation radius). A zone with a DZ and an FZ runs from the entry's validation of the DZ to its
-- validation of the FZ, whatever route is taken, without the positions within the DZ's and the FZ's
-- validation radius (acceleration and deceleration zones); an entry that validates either not at all
-- (or the FZ before the DZ) is not judged in it. Any other zone: the positions its polygon covers, or
-- within corridor_half_width_m() of its line. An excess is a run of consecutive in-zone positions
-- (by ts, device) above the limit lasting at least speeding_min_seconds(); per entry: the peak speed
-- of its excesses, the offence (peak − limit, rounded up to a whole km/h), the positions above the
-- limit in them, the first one's time, and their total seconds.
CREATE OR REPLACE FUNCTION trm_course.zone_excesses(
    p_stage uuid, p_geometry geometry[], p_limit_kmh double precision[],
    p_dz geometry[], p_dz_valid_m double precision[], p_fz geometry[], p_fz_valid_m double precision[])
RETURNS TABLE (variant integer, entry_id uuid, peak_kmh double precision, over_kmh integer, samples integer,
               first_ts timestamptz, seconds double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    w record;
    b box2d;
    margin double precision := trm_course.corridor_half_width_m() / 110000.0;
BEGIN
    SELECT * INTO w FROM trm_course.stage_window(p_stage);
    IF w.window_start IS NULL THEN
        RETURN;
    END IF;
    -- The box of the variants judged by their geometry, grown by the corridor's width.
    SELECT ST_Extent(ST_Expand(g, margin / greatest(cos(radians(least(abs(ST_YMax(g)) + margin, 89.9))), 0.001))) INTO b
      FROM unnest(p_geometry, p_dz, p_fz) AS u(g, dz, fz)
     WHERE g IS NOT NULL AND (dz IS NULL OR fz IS NULL);
    RETURN QUERY EXECUTE $q$
    WITH v AS MATERIALIZED (
        SELECT u.variant::integer AS variant, u.g, u.lim, u.dz, u.dzr, u.fz, u.fzr, (u.dz IS NOT NULL AND u.fz IS NOT NULL) AS seq
          FROM unnest($4::geometry[], $5::float8[], $6::geometry[], $7::float8[], $8::geometry[], $9::float8[])
               WITH ORDINALITY AS u(g, lim, dz, dzr, fz, fzr, variant)
    ),
    dev AS MATERIALIZED (SELECT * FROM trm_course.stage_devices($1)),
    dzv AS MATERIALIZED (SELECT * FROM trm_course.waypoint_crossings($1, $6, $7, $7)),
    fzv AS MATERIALIZED (SELECT * FROM trm_course.waypoint_crossings($1, $8, $9, $9)),
    seq_pos AS (
        SELECT v.variant, a.entry_id, p.ts, p.device_id, p.speed::float8 AS speed
          FROM v JOIN dzv a ON a.variant = v.variant
          JOIN fzv z ON z.variant = v.variant AND z.entry_id = a.entry_id AND z.validated_at > a.validated_at
          JOIN dev ON dev.entry_id = a.entry_id
          JOIN positions p ON p.device_id = dev.imei AND NOT p.faulty AND p.ts >= a.validated_at AND p.ts < z.validated_at
         WHERE v.seq
           AND ST_Distance(ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography, v.dz::geography) > v.dzr
           AND ST_Distance(ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography, v.fz::geography) > v.fzr
    ),
    cand AS MATERIALIZED (
        SELECT p.device_id, p.ts, p.speed::float8 AS speed, ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326) AS g
          FROM positions p
         WHERE $10 AND p.ts >= $2 AND p.ts < $3 AND NOT p.faulty
           AND p.latitude BETWEEN $11 AND $12 AND p.longitude BETWEEN $13 AND $14
    ),
    geo_pos AS (
        SELECT v.variant, dev.entry_id, c.ts, c.device_id, c.speed
          FROM cand c JOIN dev ON dev.imei = c.device_id
          JOIN v ON NOT v.seq AND v.g IS NOT NULL
                AND CASE WHEN ST_Dimension(v.g) = 2 THEN ST_Covers(v.g, c.g)
                         ELSE ST_DWithin(c.g::geography, v.g::geography, trm_course.corridor_half_width_m()) END
    ),
    marked AS (  -- runs: consecutive in-zone positions on the same side of the limit
        SELECT z.variant, z.entry_id, z.ts, z.speed, z.speed > v.lim AS over,
               row_number() OVER (PARTITION BY z.variant, z.entry_id ORDER BY z.ts, z.device_id)
             - row_number() OVER (PARTITION BY z.variant, z.entry_id, z.speed > v.lim ORDER BY z.ts, z.device_id) AS run
          FROM (SELECT * FROM seq_pos UNION ALL SELECT * FROM geo_pos) z JOIN v USING (variant)
    ),
    runs AS (
        SELECT m.variant, m.entry_id, min(m.ts) AS t0, max(m.ts) AS t1, max(m.speed) AS peak, count(*) AS n
          FROM marked m WHERE m.over
         GROUP BY m.variant, m.entry_id, m.run
        HAVING max(m.ts) - min(m.ts) >= make_interval(secs => trm_course.speeding_min_seconds())
    )
    SELECT r.variant, r.entry_id, max(r.peak), ceil(max(r.peak) - v.lim)::integer, sum(r.n)::integer, min(r.t0),
           sum(extract(epoch FROM r.t1 - r.t0))::float8
      FROM runs r JOIN v USING (variant)
     GROUP BY r.variant, r.entry_id, v.lim
    $q$ USING p_stage, w.window_start, w.window_end, p_geometry, p_limit_kmh, p_dz, p_dz_valid_m, p_fz, p_fz_valid_m,
              b IS NOT NULL, ST_YMin(b), ST_YMax(b), ST_XMin(b), ST_XMax(b);
END
$fn$;

DO $check$
DECLARE
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['trm_course.stage_window(uuid)', 'trm_course.stage_devices(uuid)', 'trm_course.stage_tracks(uuid)',
                        'trm_course.waypoint_crossings(uuid,geometry[],double precision[],double precision[])',
                        'trm_course.geofence_crossings(uuid,geometry[])',
                        'trm_course.zone_excesses(uuid,geometry[],double precision[],geometry[],double precision[],geometry[],double precision[])'])
           AS name
     WHERE to_regprocedure(name) IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '115: functions missing: %', array_to_string(missing, ', ');
    END IF;
END
$check$;
