-- 109: no trigger pins a Directus-managed column (architecture.md design rule 9).
--
-- PostgreSQL refuses `ALTER COLUMN … TYPE` on a column that a trigger names in `UPDATE OF` or in
-- its `WHEN` clause, and Directus re-states the column type on every schema change of a field
-- (default, nullable, length, unique): the triggers of 102, 103 and 104 made about twenty fields
-- unchangeable through Directus, and a snapshot changing one of them halted the boot at step 3.
-- This file re-creates each of those triggers without `UPDATE OF` and `WHEN`; their functions test
-- `NEW.x IS DISTINCT FROM OLD.x` themselves, so every trigger acts on exactly the rows it acted on
-- before. (An `UPDATE OF` trigger also fired for a column set to its own value; none of these
-- functions does anything for an unchanged value, so skipping those rows changes nothing.)
-- The ranking triggers of 104 keep their two-part shape (a row trigger marks the stage, a deferred
-- constraint trigger re-ranks each marked stage once at commit); without `WHEN`, the deferred one
-- is queued for every row of stage_results / entry_penalties and returns at once when no stage is
-- marked (measured with `bench timing`, README "Benchmarks").
-- Idempotent: CREATE OR REPLACE functions and triggers; constraint triggers (which cannot be
-- replaced) are dropped and created again. Ends by asserting that no trigger depends on a column
-- of a Directus-managed table.

-- 102: waypoints without radii take the event's default. The function acts only when a radius is
-- NULL, which an existing row never is (waypoints_radii_check): every update can call it.
CREATE OR REPLACE TRIGGER waypoints_default_radii
    BEFORE INSERT OR UPDATE ON waypoints
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.waypoint_default_radii();

-- 102: a segment's entry/exit geofences belong to the segment's event (segments, stages, geofences).
-- One IF per table: PL/pgSQL resolves NEW.<field> when it evaluates a condition, and stages have no stage_id.
CREATE OR REPLACE FUNCTION trm_db_init.segment_geofences_same_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'segments' THEN
            IF (NEW.stage_id, NEW.entry_geofence_id, NEW.exit_geofence_id)
               IS NOT DISTINCT FROM (OLD.stage_id, OLD.entry_geofence_id, OLD.exit_geofence_id) THEN
                RETURN NULL;
            END IF;
        ELSIF NEW.event_id IS NOT DISTINCT FROM OLD.event_id THEN
            RETURN NULL;
        END IF;
    END IF;
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
    AFTER INSERT OR UPDATE ON segments
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();
CREATE OR REPLACE TRIGGER stages_geofences_same_event
    AFTER UPDATE ON stages
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();
CREATE OR REPLACE TRIGGER geofences_same_event
    AFTER UPDATE ON geofences
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.segment_geofences_same_event();

-- 102: a speed zone's DZ and FZ waypoints are a DZ and an FZ of the zone's own segment.
CREATE OR REPLACE FUNCTION trm_db_init.speed_zone_waypoints() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF TG_TABLE_NAME = 'speed_limit_zones' THEN
            IF (NEW.segment_id, NEW.starts_at_waypoint_id, NEW.ends_at_waypoint_id)
               IS NOT DISTINCT FROM (OLD.segment_id, OLD.starts_at_waypoint_id, OLD.ends_at_waypoint_id) THEN
                RETURN NULL;
            END IF;
        ELSIF (NEW.segment_id, NEW.type) IS NOT DISTINCT FROM (OLD.segment_id, OLD.type) THEN
            RETURN NULL;
        END IF;
    END IF;
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
    AFTER INSERT OR UPDATE ON speed_limit_zones
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.speed_zone_waypoints();
CREATE OR REPLACE TRIGGER waypoints_speed_zones
    AFTER UPDATE ON waypoints
    FOR EACH ROW EXECUTE FUNCTION trm_db_init.speed_zone_waypoints();

-- 103: an entry moved to another event would leave its timing rows behind.
CREATE OR REPLACE FUNCTION trm_timing.entry_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.event_id IS NOT DISTINCT FROM OLD.event_id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM entry_crossings WHERE entry_id = NEW.id) OR EXISTS (SELECT 1 FROM stage_results WHERE entry_id = NEW.id)
       OR EXISTS (SELECT 1 FROM entry_penalties WHERE entry_id = NEW.id) OR EXISTS (SELECT 1 FROM entry_segment_starts WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'entries: entry #% has timing rows (crossings, starts, penalties or results) in its event', NEW.race_number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER entries_timing_event
    BEFORE UPDATE ON entries
    FOR EACH ROW EXECUTE FUNCTION trm_timing.entry_event_change();

-- 104: only what moves a ranking marks a stage: a result inserted or deleted, a result's elapsed
-- time, entry or stage; an applied penalty inserted or deleted, a penalty's status, seconds, entry
-- or stage when it is or was applied. (The conditions the WHEN clauses of 104 held.)
CREATE OR REPLACE FUNCTION trm_timing.mark_stage() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    dirty text;
    s uuid;
BEGIN
    IF TG_TABLE_NAME = 'stage_results' THEN
        IF TG_OP = 'UPDATE' THEN
            IF (OLD.elapsed_seconds, OLD.stage_id, OLD.entry_id) IS NOT DISTINCT FROM (NEW.elapsed_seconds, NEW.stage_id, NEW.entry_id) THEN
                RETURN NULL;
            END IF;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.status IS DISTINCT FROM 'applied' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.status IS DISTINCT FROM 'applied' THEN
            RETURN NULL;
        END IF;
    ELSIF NOT coalesce((OLD.status = 'applied' OR NEW.status = 'applied')
                       AND (OLD.status, OLD.seconds, OLD.stage_id, OLD.entry_id)
                           IS DISTINCT FROM (NEW.status, NEW.seconds, NEW.stage_id, NEW.entry_id), false) THEN
        RETURN NULL;
    END IF;
    dirty := coalesce(current_setting('trm_timing.dirty_stages', true), '');
    FOREACH s IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.stage_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.stage_id END] LOOP
        IF s IS NOT NULL AND strpos(dirty, s::text) = 0 THEN
            dirty := dirty || s::text || ',';
        END IF;
    END LOOP;
    PERFORM set_config('trm_timing.dirty_stages', dirty, true);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES ('stage_results', 'ins', 'INSERT'), ('stage_results', 'del', 'DELETE'),
                              ('stage_results', 'upd', 'UPDATE'), ('entry_penalties', 'ins', 'INSERT'),
                              ('entry_penalties', 'del', 'DELETE'), ('entry_penalties', 'upd', 'UPDATE')) AS x(tbl, suffix, event)
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %I FOR EACH ROW EXECUTE FUNCTION trm_timing.mark_stage()',
                       t.tbl || '_rank_mark_' || t.suffix, t.event, t.tbl);
        -- A constraint trigger cannot be CREATE OR REPLACEd: drop it and create it again.
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t.tbl || '_rank_' || t.suffix, t.tbl);
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER %s ON %I DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                       'EXECUTE FUNCTION trm_timing.rank_marked_stages()', t.tbl || '_rank_' || t.suffix, t.event, t.tbl);
    END LOOP;
END
$$;

-- 104: an entry changing class moves it between class rankings.
CREATE OR REPLACE FUNCTION trm_timing.rerank_entry_class() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s uuid;
BEGIN
    IF NEW.class_id IS NOT DISTINCT FROM OLD.class_id THEN
        RETURN NULL;
    END IF;
    FOR s IN SELECT DISTINCT stage_id FROM stage_results WHERE entry_id = NEW.id LOOP
        PERFORM trm_timing.rank_stage(s);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER entries_rank_class
    AFTER UPDATE ON entries
    FOR EACH ROW EXECUTE FUNCTION trm_timing.rerank_entry_class();

-- 104: publishing. stage_publish_check (unchanged) does nothing for an unchanged status: both of its
-- branches need OLD.status and NEW.status to differ.
CREATE OR REPLACE TRIGGER stages_publish_check
    BEFORE UPDATE ON stages
    FOR EACH ROW EXECUTE FUNCTION trm_timing.stage_publish_check();

CREATE OR REPLACE FUNCTION trm_timing.stage_publish() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'official' AND OLD.status IS DISTINCT FROM 'official' THEN
        UPDATE stage_results SET status = 'official', published_at = now() WHERE stage_id = NEW.id AND status = 'provisional';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER stages_publish
    AFTER UPDATE ON stages
    FOR EACH ROW EXECUTE FUNCTION trm_timing.stage_publish();

-- Assert what this file promises: every trigger is there, and no trigger depends on a column of a
-- Directus-managed table (a column named in UPDATE OF or WHEN is such a dependency in pg_depend).
DO $$
DECLARE
    missing text[];
    pinned text;
BEGIN
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['waypoints_default_radii', 'segments_geofences_same_event', 'stages_geofences_same_event',
                        'geofences_same_event', 'speed_limit_zones_waypoints', 'waypoints_speed_zones', 'entries_timing_event',
                        'stage_results_rank_ins', 'stage_results_rank_upd', 'stage_results_rank_del', 'entry_penalties_rank_ins',
                        'entry_penalties_rank_upd', 'entry_penalties_rank_del', 'stage_results_rank_mark_ins',
                        'stage_results_rank_mark_upd', 'stage_results_rank_mark_del', 'entry_penalties_rank_mark_ins',
                        'entry_penalties_rank_mark_upd', 'entry_penalties_rank_mark_del', 'entries_rank_class',
                        'stages_publish_check', 'stages_publish']) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = name AND NOT tgisinternal);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '109: triggers missing: %', array_to_string(missing, ', ');
    END IF;
    SELECT string_agg(format('%s pins %s.%s', t.tgname, c.relname, a.attname), ', ') INTO pinned
      FROM pg_depend d
      JOIN pg_trigger t ON d.classid = 'pg_trigger'::regclass AND t.oid = d.objid
      JOIN pg_class c ON d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
     WHERE d.refobjsubid > 0 AND c.relnamespace = 'public'::regnamespace
       AND (c.relname LIKE 'directus\_%' OR c.relname IN (SELECT collection FROM directus_collections));
    IF pinned IS NOT NULL THEN
        RAISE EXCEPTION '109: triggers still pin Directus-managed columns: %', pinned;
    END IF;
END
$$;
