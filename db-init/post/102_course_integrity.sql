-- 102: integrity of the course collections (domain.md "Phase 2") that Directus cannot express.
--
-- GiST indexes on every geometry column; valid geometries only (right type, SRID 4326, valid,
-- non-degenerate, coordinates in range); radii > 0 and validation <= opening; speed limits in a
-- sane range; sort orders unique within their parent (immediate uniques: Directus answers 400
-- RECORD_NOT_UNIQUE); a segment's geofences belong to the segment's event; a speed zone's DZ and FZ
-- waypoints are of those types and belong to its segment; waypoints without radii take the
-- event's default for their type (trigger), and a waypoint never ends up without radii.
-- Through the API, extensions/trm-integrity answers 400 with the rule before any of these fire;
-- they stay the guarantee for every other writer (the processor, psql, imports).
-- Idempotent: constraints by name, IF NOT EXISTS indexes, CREATE OR REPLACE functions/triggers.

-- Spatial indexes. INCLUDE (id) keeps them out of Directus's sight: Directus marks a column
-- `is_indexed` when a non-unique index covers exactly that column, and a snapshot that says
-- otherwise makes `schema apply` drop it by a name it invents (it would fail). An index with an
-- included column is not "exactly that column" for Directus, and is still a plain GiST index on
-- the geometry for PostGIS's operators. B-tree indexes of foreign keys are Directus's own
-- (`is_indexed` in the snapshot, model/course.py).
CREATE INDEX IF NOT EXISTS stages_route_gist ON stages USING gist (route) INCLUDE (id);
CREATE INDEX IF NOT EXISTS geofences_geometry_gist ON geofences USING gist (geometry) INCLUDE (id);
CREATE INDEX IF NOT EXISTS waypoints_location_gist ON waypoints USING gist (location) INCLUDE (id);
CREATE INDEX IF NOT EXISTS speed_limit_zones_geometry_gist ON speed_limit_zones USING gist (geometry) INCLUDE (id);

-- Geometry validity: one helper so every column says the same thing.
CREATE OR REPLACE FUNCTION trm_db_init.valid_geometry(g geometry, kinds text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT g IS NULL OR (
        ST_SRID(g) = 4326
        AND GeometryType(g) = ANY (kinds)
        AND ST_IsValid(g)
        AND ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90
        AND CASE GeometryType(g)
                WHEN 'POLYGON' THEN ST_Area(g) > 0
                WHEN 'LINESTRING' THEN ST_NPoints(g) >= 2 AND ST_Length(g) > 0
                ELSE true
            END)
$$;

SELECT trm_db_init.ensure_constraint('stages', 'stages_route_valid_check',
    $c$CHECK (trm_db_init.valid_geometry(route, ARRAY['LINESTRING']))$c$);
SELECT trm_db_init.ensure_constraint('geofences', 'geofences_geometry_valid_check',
    $c$CHECK (geometry IS NOT NULL AND trm_db_init.valid_geometry(geometry, ARRAY['POLYGON']))$c$);
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_location_valid_check',
    $c$CHECK (location IS NOT NULL AND trm_db_init.valid_geometry(location, ARRAY['POINT']))$c$);
SELECT trm_db_init.ensure_constraint('speed_limit_zones', 'speed_limit_zones_geometry_valid_check',
    $c$CHECK (geometry IS NOT NULL AND trm_db_init.valid_geometry(geometry, ARRAY['POLYGON', 'LINESTRING']))$c$);

-- Sort orders unique within their parent; names unique within the event.
SELECT trm_db_init.ensure_constraint('stages', 'stages_event_sort_order_key', 'UNIQUE (event_id, sort_order)');
SELECT trm_db_init.ensure_constraint('stages', 'stages_event_name_key', 'UNIQUE (event_id, name)');
SELECT trm_db_init.ensure_constraint('segments', 'segments_stage_sort_order_key', 'UNIQUE (stage_id, sort_order)');
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_segment_sort_order_key', 'UNIQUE (segment_id, sort_order)');
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_segment_code_key', 'UNIQUE (segment_id, code)');
SELECT trm_db_init.ensure_constraint('geofences', 'geofences_event_name_key', 'UNIQUE (event_id, name)');
SELECT trm_db_init.ensure_constraint('waypoint_radius_defaults', 'waypoint_radius_defaults_event_type_key',
    'UNIQUE (event_id, waypoint_type)');

-- Values (the same rules as the fields' validation in Directus).
SELECT trm_db_init.ensure_constraint('stages', 'stages_kind_check',
    $c$CHECK (kind IS NULL OR kind IN ('prologue', 'stage', 'marathon', 'epilogue'))$c$);
SELECT trm_db_init.ensure_constraint('stages', 'stages_status_check',
    $c$CHECK (status IN ('draft', 'open', 'closed', 'official'))$c$);
SELECT trm_db_init.ensure_constraint('stages', 'stages_strategy_check',
    $c$CHECK (start_order_strategy IN ('manual', 'previous_stage_clean_result', 'inverse_top_n_then_natural', 'inverse_of_overall'))$c$);
SELECT trm_db_init.ensure_constraint('stages', 'stages_numbers_check',
    'CHECK (sort_order >= 0 AND (start_interval_seconds IS NULL OR start_interval_seconds BETWEEN 0 AND 3600))');
SELECT trm_db_init.ensure_constraint('stages', 'stages_input_stage_not_self_check', 'CHECK (start_order_input_stage_id <> id)');
SELECT trm_db_init.ensure_constraint('segments', 'segments_type_check',
    $c$CHECK (type IN ('liaison', 'special-stage', 'parc-ferme', 'neutralization'))$c$);
SELECT trm_db_init.ensure_constraint('segments', 'segments_durations_check',
    'CHECK (sort_order >= 0 AND (target_duration_seconds IS NULL OR target_duration_seconds > 0) '
    'AND (max_duration_seconds IS NULL OR max_duration_seconds > 0) '
    'AND (max_duration_seconds IS NULL OR target_duration_seconds IS NULL OR max_duration_seconds >= target_duration_seconds))');
SELECT trm_db_init.ensure_constraint('geofences', 'geofences_kind_check',
    $c$CHECK (kind IS NULL OR kind IN ('start', 'finish', 'control', 'parc-ferme', 'neutralization', 'zone'))$c$);
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_type_check',
    $c$CHECK (type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC'))$c$);
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_radii_check',
    'CHECK (open_radius_m IS NOT NULL AND validation_radius_m IS NOT NULL '
    'AND open_radius_m > 0 AND validation_radius_m > 0 AND validation_radius_m <= open_radius_m)');
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_numbers_check',
    'CHECK (sort_order >= 0 AND (distance_km IS NULL OR distance_km >= 0) AND (cap IS NULL OR cap BETWEEN 0 AND 359) '
    'AND (danger IS NULL OR danger BETWEEN 1 AND 3))');
SELECT trm_db_init.ensure_constraint('waypoint_radius_defaults', 'waypoint_radius_defaults_type_check',
    $c$CHECK (waypoint_type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC'))$c$);
SELECT trm_db_init.ensure_constraint('waypoint_radius_defaults', 'waypoint_radius_defaults_radii_check',
    'CHECK (open_radius_m > 0 AND validation_radius_m > 0 AND validation_radius_m <= open_radius_m)');
SELECT trm_db_init.ensure_constraint('speed_limit_zones', 'speed_limit_zones_speed_check',
    'CHECK (speed_limit_kmh BETWEEN 5 AND 250)');

-- Waypoints created (or cleared) without radii take the event's default for their type.
CREATE OR REPLACE FUNCTION trm_db_init.waypoint_default_radii() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    IF NEW.open_radius_m IS NULL OR NEW.validation_radius_m IS NULL THEN
        SELECT r.open_radius_m, r.validation_radius_m INTO d
          FROM segments s
          JOIN stages st ON st.id = s.stage_id
          JOIN waypoint_radius_defaults r ON r.event_id = st.event_id AND r.waypoint_type = NEW.type
         WHERE s.id = NEW.segment_id;
        IF FOUND THEN
            NEW.open_radius_m := coalesce(NEW.open_radius_m, d.open_radius_m);
            NEW.validation_radius_m := coalesce(NEW.validation_radius_m, d.validation_radius_m);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER waypoints_default_radii
    BEFORE INSERT OR UPDATE OF open_radius_m, validation_radius_m, type, segment_id ON waypoints
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.waypoint_default_radii();

-- A segment's entry/exit geofences belong to the segment's event.
CREATE OR REPLACE FUNCTION trm_db_init.segment_geofences_same_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(g.name, ', ') INTO bad
      FROM segments s
      JOIN stages st ON st.id = s.stage_id
      JOIN geofences g ON g.id IN (s.entry_geofence_id, s.exit_geofence_id)
     WHERE g.event_id <> st.event_id
       AND CASE TG_TABLE_NAME
               WHEN 'segments' THEN s.id = NEW.id
               WHEN 'stages' THEN st.id = NEW.id
               ELSE g.id = NEW.id
           END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'a segment''s geofences must belong to the segment''s event (geofence %)', bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER segments_geofences_same_event
    AFTER INSERT OR UPDATE OF stage_id, entry_geofence_id, exit_geofence_id ON segments
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();
CREATE OR REPLACE TRIGGER stages_geofences_same_event
    AFTER UPDATE OF event_id ON stages
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();
CREATE OR REPLACE TRIGGER geofences_same_event
    AFTER UPDATE OF event_id ON geofences
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();

-- A speed zone's DZ and FZ waypoints are a DZ and an FZ of the zone's own segment.
CREATE OR REPLACE FUNCTION trm_db_init.speed_zone_waypoints() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s %s', w.type, w.code), ', ') INTO bad
      FROM speed_limit_zones z
      JOIN waypoints w ON (w.id = z.starts_at_waypoint_id AND (w.type <> 'DZ' OR w.segment_id <> z.segment_id))
                       OR (w.id = z.ends_at_waypoint_id AND (w.type <> 'FZ' OR w.segment_id <> z.segment_id))
     WHERE CASE TG_TABLE_NAME WHEN 'speed_limit_zones' THEN z.id = NEW.id ELSE w.id = NEW.id END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'a speed zone starts at a DZ and ends at an FZ of its own segment (not %)', bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER speed_limit_zones_waypoints
    AFTER INSERT OR UPDATE OF segment_id, starts_at_waypoint_id, ends_at_waypoint_id ON speed_limit_zones
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.speed_zone_waypoints();
CREATE OR REPLACE TRIGGER waypoints_speed_zones
    AFTER UPDATE OF segment_id, type ON waypoints
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.speed_zone_waypoints();

-- Assert what this file promises.
DO $$
DECLARE
    expected text[] := ARRAY[
        'stages_route_valid_check', 'geofences_geometry_valid_check', 'waypoints_location_valid_check',
        'speed_limit_zones_geometry_valid_check', 'stages_event_sort_order_key', 'stages_event_name_key',
        'segments_stage_sort_order_key', 'waypoints_segment_sort_order_key', 'waypoints_segment_code_key',
        'geofences_event_name_key', 'waypoint_radius_defaults_event_type_key', 'stages_kind_check', 'stages_status_check',
        'stages_strategy_check', 'stages_numbers_check', 'stages_input_stage_not_self_check', 'segments_type_check',
        'segments_durations_check', 'geofences_kind_check', 'waypoints_type_check', 'waypoints_radii_check',
        'waypoints_numbers_check', 'waypoint_radius_defaults_type_check', 'waypoint_radius_defaults_radii_check',
        'speed_limit_zones_speed_check'];
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing FROM unnest(expected) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = name);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '102: constraints missing: %', array_to_string(missing, ', ');
    END IF;
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['stages_route_gist', 'geofences_geometry_gist', 'waypoints_location_gist',
                        'speed_limit_zones_geometry_gist']) AS name
     WHERE to_regclass(name) IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '102: GiST indexes missing: %', array_to_string(missing, ', ');
    END IF;
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['waypoints_default_radii', 'segments_geofences_same_event', 'stages_geofences_same_event',
                        'geofences_same_event', 'speed_limit_zones_waypoints', 'waypoints_speed_zones']) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = name AND NOT tgisinternal);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '102: triggers missing: %', array_to_string(missing, ', ');
    END IF;
END
$$;
