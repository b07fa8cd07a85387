-- 103: integrity of the timing collections (domain.md "Phase 3") that Directus cannot express.
--
-- Values (types, statuses, operators, non-negative seconds, brackets with max > min); natural keys
-- as uniques usable by INSERT … ON CONFLICT (crossings per (entry, geofence, ts) and (entry,
-- waypoint, ts); results per (entry, stage); start slots per (entry, segment); penalties per
-- (entry, dedupe_key); one formula row per (rule, offence_min)); penalty_formulas' polymorphic
-- target exists and is of the formula's event, and is not deleted while a formula points at it;
-- the brackets of one rule neither overlap nor leave gaps (deferred constraint trigger: checked at
-- commit, so a rule can be reshaped in one transaction); every row of an entry is of the entry's
-- event; penalty review transitions; official results are final. The ranking, the formula
-- resolution and publishing a stage are in 104.
-- Through the API, extensions/trm-integrity (timing.ts) answers 400 with the rule before any of
-- these fire; they stay the guarantee for every other writer (the processor, psql, imports).
-- Idempotent: constraints by name, IF NOT EXISTS indexes, CREATE OR REPLACE functions/triggers.

CREATE SCHEMA IF NOT EXISTS trm_timing;
COMMENT ON SCHEMA trm_timing IS 'TRM timing: formula resolution, ranking and publishing (db-init/post/103, 104); not a Directus schema';

-- Lookups the rules, the ranking and the processor use (uniques below cover the entry-first ones).
-- All multi-column: a single-column index flips the column's `is_indexed` in Directus's snapshot,
-- which the model build on an empty Directus (no post files) does not have. entry_crossings has only
-- its primary key and its two idempotency uniques (entry first): every further index slows the
-- processor's bulk write (measured: `bench timing`); add a target-first index when a reader needs one.
CREATE INDEX IF NOT EXISTS penalty_formulas_target_idx ON penalty_formulas (belongs_to_id, type) WHERE belongs_to_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS entry_penalties_stage_status_idx ON entry_penalties (stage_id, status);
CREATE INDEX IF NOT EXISTS entry_penalties_entry_stage_idx ON entry_penalties (entry_id, stage_id);
CREATE INDEX IF NOT EXISTS entry_penalties_formula_idx ON entry_penalties (formula_id, status) WHERE formula_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS stage_results_stage_rank_idx ON stage_results (stage_id, rank_overall);

-- Values (the same rules as the fields' validation in Directus).
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_type_check',
    $c$CHECK (type IN ('speeding', 'missed_waypoint', 'late_start', 'late_arrival', 'early_arrival', 'max_time_exceeded', 'dns', 'dnf'))$c$);
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_belongs_to_check',
    $c$CHECK (belongs_to_type IN ('event', 'stage', 'segment', 'waypoint', 'speed_limit_zone')
              AND (belongs_to_type = 'event') = (belongs_to_id IS NULL))$c$);
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_waypoint_type_check',
    $c$CHECK (waypoint_type IS NULL OR (type = 'missed_waypoint' AND belongs_to_type IN ('event', 'stage', 'segment')
              AND waypoint_type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC')))$c$);
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_values_check',
    $c$CHECK (operator IN ('flat', 'per_unit') AND penalty_seconds >= 0 AND (offence_min IS NULL OR offence_min >= 0)
              AND (offence_max IS NULL OR (offence_min IS NOT NULL AND offence_max > offence_min)))$c$);
-- One row per (rule, bracket): a rule is (event, type, attachment, waypoint type); a flat rule has
-- offence_min NULL, so NULLS NOT DISTINCT also makes "one flat row per rule". The natural key of imports.
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_rule_bracket_key',
    'UNIQUE NULLS NOT DISTINCT (event_id, type, belongs_to_type, belongs_to_id, waypoint_type, offence_min)');

SELECT trm_db_init.ensure_constraint('entry_segment_starts', 'entry_segment_starts_entry_segment_key', 'UNIQUE (entry_id, segment_id)');
SELECT trm_db_init.ensure_constraint('entry_segment_starts', 'entry_segment_starts_segment_position_key',
    'UNIQUE (segment_id, start_position)');
SELECT trm_db_init.ensure_constraint('entry_segment_starts', 'entry_segment_starts_position_check',
    'CHECK (start_position IS NULL OR start_position >= 1)');

SELECT trm_db_init.ensure_constraint('entry_crossings', 'entry_crossings_one_target_check',
    'CHECK (num_nonnulls(geofence_id, waypoint_id) = 1)');
SELECT trm_db_init.ensure_constraint('entry_crossings', 'entry_crossings_values_check',
    $c$CHECK (source IN ('gps', 'manual') AND (device_imei IS NULL OR device_imei ~ '^[0-9]{15}$'))$c$);
-- The processor's idempotency keys: INSERT … ON CONFLICT (entry_id, geofence_id, ts) DO NOTHING.
SELECT trm_db_init.ensure_constraint('entry_crossings', 'entry_crossings_entry_geofence_ts_key', 'UNIQUE (entry_id, geofence_id, ts)');
SELECT trm_db_init.ensure_constraint('entry_crossings', 'entry_crossings_entry_waypoint_ts_key', 'UNIQUE (entry_id, waypoint_id, ts)');

SELECT trm_db_init.ensure_constraint('entry_penalties', 'entry_penalties_values_check',
    $c$CHECK (seconds >= 0 AND status IN ('proposed', 'applied', 'waived')
              AND type IN ('speeding', 'missed_waypoint', 'late_start', 'late_arrival', 'early_arrival', 'max_time_exceeded', 'dns', 'dnf'))$c$);
SELECT trm_db_init.ensure_constraint('entry_penalties', 'entry_penalties_reviewed_check',
    $c$CHECK (status = 'proposed' OR reviewed_by IS NOT NULL)$c$);
SELECT trm_db_init.ensure_constraint('entry_penalties', 'entry_penalties_waive_note_check',
    $c$CHECK (status <> 'waived' OR length(btrim(coalesce(note, ''))) > 0)$c$);
SELECT trm_db_init.ensure_constraint('entry_penalties', 'entry_penalties_entry_dedupe_key', 'UNIQUE (entry_id, dedupe_key)');

SELECT trm_db_init.ensure_constraint('stage_results', 'stage_results_entry_stage_key', 'UNIQUE (entry_id, stage_id)');
SELECT trm_db_init.ensure_constraint('stage_results', 'stage_results_values_check',
    $c$CHECK (status IN ('provisional', 'official') AND (elapsed_seconds IS NULL OR elapsed_seconds >= 0)
              AND (status = 'provisional' OR published_at IS NOT NULL))$c$);

-- The event of a course row, whatever its kind (penalty_formulas.belongs_to_*; NULL when it does not exist).
CREATE OR REPLACE FUNCTION trm_timing.event_of(p_kind text, p_id uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT CASE p_kind
        WHEN 'event' THEN (SELECT id FROM events WHERE id = p_id)
        WHEN 'stage' THEN (SELECT event_id FROM stages WHERE id = p_id)
        WHEN 'segment' THEN (SELECT st.event_id FROM segments s JOIN stages st ON st.id = s.stage_id WHERE s.id = p_id)
        WHEN 'waypoint' THEN (SELECT st.event_id FROM waypoints w JOIN segments s ON s.id = w.segment_id
                                JOIN stages st ON st.id = s.stage_id WHERE w.id = p_id)
        WHEN 'speed_limit_zone' THEN (SELECT st.event_id FROM speed_limit_zones z JOIN segments s ON s.id = z.segment_id
                                        JOIN stages st ON st.id = s.stage_id WHERE z.id = p_id)
    END
$$;

-- Seconds as people write them: 3600 -> '60 min', 90 -> '90 s', 7200 -> '2 h'.
CREATE OR REPLACE FUNCTION trm_timing.duration_text(p_seconds integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_seconds IS NULL THEN '?'
        WHEN p_seconds >= 7200 AND p_seconds % 3600 = 0 THEN (p_seconds / 3600) || ' h'
        WHEN p_seconds >= 60 AND p_seconds % 60 = 0 THEN (p_seconds / 60) || ' min'
        ELSE p_seconds || ' s'
    END
$$;

-- penalty_formulas: the target exists in the formula's event; the summary shown in lists.
CREATE OR REPLACE FUNCTION trm_timing.penalty_formula_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target_event uuid;
    unit text;
BEGIN
    IF NEW.belongs_to_type <> 'event' THEN
        target_event := trm_timing.event_of(NEW.belongs_to_type, NEW.belongs_to_id);
        IF target_event IS NULL THEN
            RAISE EXCEPTION 'penalty_formulas: % % does not exist', NEW.belongs_to_type, NEW.belongs_to_id
                USING ERRCODE = 'foreign_key_violation';
        ELSIF target_event <> NEW.event_id THEN
            RAISE EXCEPTION 'penalty_formulas: % % belongs to another event than the formula', NEW.belongs_to_type, NEW.belongs_to_id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    unit := CASE NEW.type WHEN 'speeding' THEN ' km/h over' WHEN 'missed_waypoint' THEN ' missed'
                          WHEN 'early_arrival' THEN ' min early' WHEN 'dns' THEN '' WHEN 'dnf' THEN '' ELSE ' min' END;
    NEW.summary := left(concat_ws(' ',
        NEW.type,
        NEW.waypoint_type,
        CASE WHEN NEW.offence_min IS NOT NULL
             THEN '> ' || NEW.offence_min || coalesce(' ≤ ' || NEW.offence_max, '') || unit END,
        CASE WHEN NEW.belongs_to_type <> 'event' THEN '(' || replace(NEW.belongs_to_type, '_', ' ') || ')' END)
        || ': ' || trm_timing.duration_text(NEW.penalty_seconds)
        || CASE WHEN NEW.operator = 'per_unit' THEN ' per' || coalesce(nullif(unit, ''), ' unit') ELSE '' END
        || CASE WHEN NOT NEW.enabled THEN ' (disabled)' ELSE '' END
        || CASE WHEN NEW.placeholder THEN ' [PLACEHOLDER]' ELSE '' END, 200);
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER penalty_formulas_row
    BEFORE INSERT OR UPDATE ON penalty_formulas
    FOR EACH ROW EXECUTE FUNCTION trm_timing.penalty_formula_row();

-- The brackets of one rule: a single flat row, or brackets sorted by offence_min whose each
-- offence_min equals the previous offence_max (no overlap, no gap), only the last one open-ended.
-- The problem as text, NULL when the rule is sound.
CREATE OR REPLACE FUNCTION trm_timing.rule_problem(p_event uuid, p_type text, p_kind text, p_target uuid, p_wtype text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    prev_min integer;
    prev_max integer;
    brackets integer := 0;
    flat integer := 0;
BEGIN
    FOR r IN
        SELECT offence_min, offence_max FROM penalty_formulas
         WHERE event_id = p_event AND type = p_type AND belongs_to_type = p_kind
           AND belongs_to_id IS NOT DISTINCT FROM p_target AND waypoint_type IS NOT DISTINCT FROM p_wtype
         ORDER BY offence_min NULLS FIRST
    LOOP
        IF r.offence_min IS NULL THEN
            flat := flat + 1;
            CONTINUE;
        END IF;
        IF brackets > 0 THEN
            IF prev_max IS NULL THEN
                RETURN format('bracket (> %s) has no upper bound but bracket (> %s) follows it', prev_min, r.offence_min);
            ELSIF r.offence_min < prev_max THEN
                RETURN format('brackets (> %s ≤ %s) and (> %s) overlap', prev_min, prev_max, r.offence_min);
            ELSIF r.offence_min > prev_max THEN
                RETURN format('gap between brackets (> %s ≤ %s) and (> %s): offences in (%s, %s] have no penalty',
                              prev_min, prev_max, r.offence_min, prev_max, r.offence_min);
            END IF;
        END IF;
        brackets := brackets + 1;
        prev_min := r.offence_min;
        prev_max := r.offence_max;
    END LOOP;
    IF flat > 0 AND brackets > 0 THEN
        RETURN 'a rule is either one flat row or brackets, not both';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION trm_timing.penalty_formula_rule_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected penalty_formulas[];
    r penalty_formulas;
    problem text;
BEGIN
    -- The rule the row is in now, and the rule it left (an update may move a row between rules).
    affected := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW] WHEN 'DELETE' THEN ARRAY[OLD] ELSE ARRAY[NEW, OLD] END;
    FOREACH r IN ARRAY affected LOOP
        problem := trm_timing.rule_problem(r.event_id, r.type, r.belongs_to_type, r.belongs_to_id, r.waypoint_type);
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'penalty_formulas: rule % at %: %',
                r.type || coalesce(' ' || r.waypoint_type, ''), r.belongs_to_type || coalesce(' ' || r.belongs_to_id, ''), problem
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
DO $$
BEGIN
    -- A constraint trigger cannot be CREATE OR REPLACEd: create it once.
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'penalty_formulas_rule_check' AND tgrelid = 'penalty_formulas'::regclass) THEN
        CREATE CONSTRAINT TRIGGER penalty_formulas_rule_check
            AFTER INSERT OR UPDATE OR DELETE ON penalty_formulas
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION trm_timing.penalty_formula_rule_check();
    END IF;
END
$$;

-- A course row with penalty formulas attached is not deleted (the polymorphic reference has no foreign key).
CREATE OR REPLACE FUNCTION trm_timing.formula_target_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    SELECT count(*) INTO n FROM penalty_formulas WHERE belongs_to_id = OLD.id;
    IF n > 0 THEN
        RAISE EXCEPTION '% % is still referenced by penalty_formulas.belongs_to_id (% rows): delete or reattach those first',
            TG_TABLE_NAME, OLD.id, n USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE OR REPLACE TRIGGER stages_formula_targets BEFORE DELETE ON stages
    FOR EACH ROW EXECUTE FUNCTION trm_timing.formula_target_delete();
CREATE OR REPLACE TRIGGER segments_formula_targets BEFORE DELETE ON segments
    FOR EACH ROW EXECUTE FUNCTION trm_timing.formula_target_delete();
CREATE OR REPLACE TRIGGER waypoints_formula_targets BEFORE DELETE ON waypoints
    FOR EACH ROW EXECUTE FUNCTION trm_timing.formula_target_delete();
CREATE OR REPLACE TRIGGER speed_limit_zones_formula_targets BEFORE DELETE ON speed_limit_zones
    FOR EACH ROW EXECUTE FUNCTION trm_timing.formula_target_delete();

-- Every row of an entry is of the entry's event. Statement-level with transition tables: the
-- processor writes crossings and penalties in bulk, so one join per statement, not per row.
CREATE OR REPLACE FUNCTION trm_timing.entry_rows_same_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'entry_crossings' THEN
        SELECT format('entry #%s and %s', e.race_number, coalesce('geofence ' || g.name, 'waypoint ' || w.code)) INTO bad
          FROM new_rows n JOIN entries e ON e.id = n.entry_id
          LEFT JOIN geofences g ON g.id = n.geofence_id
          LEFT JOIN waypoints w ON w.id = n.waypoint_id
          LEFT JOIN segments s ON s.id = w.segment_id
          LEFT JOIN stages st ON st.id = s.stage_id
         WHERE coalesce(g.event_id, st.event_id) <> e.event_id
         LIMIT 1;
    WHEN 'entry_segment_starts' THEN
        SELECT format('entry #%s and segment %s of stage %s', e.race_number, s.sort_order, st.name) INTO bad
          FROM new_rows n JOIN entries e ON e.id = n.entry_id
          JOIN segments s ON s.id = n.segment_id JOIN stages st ON st.id = s.stage_id
         WHERE st.event_id <> e.event_id
         LIMIT 1;
    WHEN 'stage_results' THEN
        SELECT format('entry #%s and stage %s', e.race_number, st.name) INTO bad
          FROM new_rows n JOIN entries e ON e.id = n.entry_id JOIN stages st ON st.id = n.stage_id
         WHERE st.event_id <> e.event_id
         LIMIT 1;
    WHEN 'entry_penalties' THEN
        SELECT format('entry #%s and %s', e.race_number, coalesce('stage ' || st.name, 'formula ' || f.summary)) INTO bad
          FROM new_rows n JOIN entries e ON e.id = n.entry_id
          LEFT JOIN stages st ON st.id = n.stage_id
          LEFT JOIN penalty_formulas f ON f.id = n.formula_id
         WHERE st.event_id <> e.event_id OR f.event_id <> e.event_id
         LIMIT 1;
    END CASE;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION '%: % belong to different events', TG_TABLE_NAME, bad USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['entry_crossings', 'entry_segment_starts', 'stage_results', 'entry_penalties'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION trm_timing.entry_rows_same_event()', t || '_same_event_ins', t);
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION trm_timing.entry_rows_same_event()', t || '_same_event_upd', t);
    END LOOP;
END
$$;

-- An entry moved to another event would leave its timing rows behind.
CREATE OR REPLACE FUNCTION trm_timing.entry_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM entry_crossings WHERE entry_id = NEW.id) OR EXISTS (SELECT 1 FROM stage_results WHERE entry_id = NEW.id)
       OR EXISTS (SELECT 1 FROM entry_penalties WHERE entry_id = NEW.id) OR EXISTS (SELECT 1 FROM entry_segment_starts WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'entries: entry #% has timing rows (crossings, starts, penalties or results) in its event', NEW.race_number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER entries_timing_event
    BEFORE UPDATE OF event_id ON entries
    FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id) EXECUTE FUNCTION trm_timing.entry_event_change();

-- Penalty review: proposed -> applied / waived (and applied <-> waived on re-review); never back to
-- proposed; reviewed_at stamped on every status change; changing the seconds of a reviewed
-- penalty (an override) needs a note; nothing changes once the stage is official.
CREATE OR REPLACE FUNCTION trm_timing.penalty_review() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    official text;
BEGIN
    SELECT name INTO official FROM stages
     WHERE status = 'official'
       AND id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.stage_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.stage_id END)
     LIMIT 1;
    IF official IS NOT NULL THEN
        RAISE EXCEPTION 'entry_penalties: stage % is official: its penalties are final', official
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status <> 'proposed' AND NEW.status = 'proposed' THEN
            RAISE EXCEPTION 'entry_penalties: a reviewed penalty (%) does not go back to proposed', OLD.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.seconds <> OLD.seconds AND NEW.status <> 'proposed' AND length(btrim(coalesce(NEW.note, ''))) = 0 THEN
            RAISE EXCEPTION 'entry_penalties: changing the seconds of a reviewed penalty (% -> %) needs a note', OLD.seconds, NEW.seconds
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.status <> 'proposed' AND (TG_OP = 'INSERT' OR NEW.status <> OLD.status) THEN
        NEW.reviewed_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER entry_penalties_review
    BEFORE INSERT OR UPDATE OR DELETE ON entry_penalties
    FOR EACH ROW EXECUTE FUNCTION trm_timing.penalty_review();

-- Stage results: official only by publishing the stage (104), never back, and frozen once official.
CREATE OR REPLACE FUNCTION trm_timing.stage_result_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    stage_status text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'official' THEN
            RAISE EXCEPTION 'stage_results: an official result is final (entry %, stage %)', OLD.entry_id, OLD.stage_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    SELECT status INTO stage_status FROM stages WHERE id = NEW.stage_id;
    IF TG_OP = 'UPDATE' AND OLD.status = 'official' THEN
        IF NEW.status <> 'official' THEN
            RAISE EXCEPTION 'stage_results: an official result does not go back to provisional' USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.entry_id, NEW.stage_id, NEW.elapsed_seconds, NEW.penalty_seconds, NEW.total_seconds, NEW.rank_overall, NEW.rank_class, NEW.published_at)
           IS DISTINCT FROM
           (OLD.entry_id, OLD.stage_id, OLD.elapsed_seconds, OLD.penalty_seconds, OLD.total_seconds, OLD.rank_overall, OLD.rank_class, OLD.published_at) THEN
            RAISE EXCEPTION 'stage_results: an official result is final (entry %, stage %)', OLD.entry_id, OLD.stage_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF stage_status = 'official' AND (TG_OP = 'INSERT' OR NEW.status = 'provisional') THEN
        RAISE EXCEPTION 'stage_results: the stage is official: its results are final' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'official' THEN
        IF stage_status IS DISTINCT FROM 'official' THEN
            RAISE EXCEPTION 'stage_results: results become official by publishing the stage (stages.status = official)'
                USING ERRCODE = 'check_violation';
        END IF;
        NEW.published_at := coalesce(NEW.published_at, now());
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER stage_results_row
    BEFORE INSERT OR UPDATE OR DELETE ON stage_results
    FOR EACH ROW EXECUTE FUNCTION trm_timing.stage_result_row();

-- Assert what this file promises.
DO $$
DECLARE
    expected text[] := ARRAY[
        'penalty_formulas_type_check', 'penalty_formulas_belongs_to_check', 'penalty_formulas_waypoint_type_check',
        'penalty_formulas_values_check', 'penalty_formulas_rule_bracket_key', 'entry_segment_starts_entry_segment_key',
        'entry_segment_starts_segment_position_key', 'entry_segment_starts_position_check', 'entry_crossings_one_target_check',
        'entry_crossings_values_check', 'entry_crossings_entry_geofence_ts_key', 'entry_crossings_entry_waypoint_ts_key',
        'entry_penalties_values_check', 'entry_penalties_reviewed_check', 'entry_penalties_waive_note_check',
        'entry_penalties_entry_dedupe_key', 'stage_results_entry_stage_key', 'stage_results_values_check'];
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing FROM unnest(expected) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = name);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '103: constraints missing: %', array_to_string(missing, ', ');
    END IF;
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['penalty_formulas_row', 'penalty_formulas_rule_check', 'stages_formula_targets',
                        'segments_formula_targets', 'waypoints_formula_targets', 'speed_limit_zones_formula_targets',
                        'entry_crossings_same_event_ins', 'entry_crossings_same_event_upd', 'entry_segment_starts_same_event_ins',
                        'entry_segment_starts_same_event_upd', 'stage_results_same_event_ins', 'stage_results_same_event_upd',
                        'entry_penalties_same_event_ins', 'entry_penalties_same_event_upd', 'entries_timing_event',
                        'entry_penalties_review', 'stage_results_row']) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = name AND NOT tgisinternal);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '103: triggers missing: %', array_to_string(missing, ', ');
    END IF;
END
$$;
