-- 104: what the timing tables compute (domain.md "Phase 3"): the winning penalty formula for a
-- target, a stage's ranking overall and per class, and publishing a stage.
--
-- trm_timing.penalty_formula_for(type, target_type, target_id [, waypoint_type]): the rows of the
--   most specific enabled rule for a target — speed zone > waypoint > segment > stage > event; at
--   the same attachment a rule for the waypoint's type beats one for every type — one flat row or
--   its brackets in order. The processor calls it instead of re-implementing the precedence.
-- trm_timing.stage_ranking(stage_id): the live ranking of a stage from stage_results.elapsed_seconds
--   and the entries' *applied* penalties on that stage: penalty, total, rank overall and in class
--   (ties share a rank; entries without an elapsed time are unranked, last).
-- trm_timing.rank_stage(stage_id): writes that ranking into stage_results (penalty_seconds,
--   total_seconds, rank_overall, rank_class) where it differs. Triggers call it at the commit of
--   every transaction that changes an elapsed time, an applied penalty or an entry's class, so the
--   stage_results collection *is* the ranking Directus serves (a view cannot be: Directus 11.17.4
--   reads only base tables with a primary key, db-init/README.md).
-- Publishing: stages.status -> official is refused while penalties of the stage are still
--   proposed; it ranks the stage once more and makes its results official with published_at.
--   An official stage does not go back while it has official results.
-- Functions, not views: a view on Directus tables would make a later snapshot apply that changes one
-- of their column types fail (PostgreSQL refuses to alter a column a view uses).
-- Idempotent: CREATE OR REPLACE functions and triggers.

CREATE OR REPLACE FUNCTION trm_timing.penalty_formula_for(
    p_type text, p_target_type text, p_target_id uuid, p_waypoint_type text DEFAULT NULL)
RETURNS TABLE (id uuid, event_id uuid, type text, belongs_to_type text, belongs_to_id uuid, waypoint_type text,
               offence_min integer, offence_max integer, operator text, penalty_seconds integer, placeholder boolean,
               retroactive boolean, summary text, specificity integer)
LANGUAGE sql STABLE AS $$
    WITH target AS (  -- the target and what it belongs to
        SELECT z.id AS zone_id, NULL::uuid AS waypoint_id, s.id AS segment_id, st.id AS stage_id, st.event_id, NULL::text AS wtype
          FROM speed_limit_zones z JOIN segments s ON s.id = z.segment_id JOIN stages st ON st.id = s.stage_id
         WHERE p_target_type = 'speed_limit_zone' AND z.id = p_target_id
        UNION ALL
        SELECT NULL, w.id, s.id, st.id, st.event_id, w.type
          FROM waypoints w JOIN segments s ON s.id = w.segment_id JOIN stages st ON st.id = s.stage_id
         WHERE p_target_type = 'waypoint' AND w.id = p_target_id
        UNION ALL
        SELECT NULL, NULL, s.id, st.id, st.event_id, NULL
          FROM segments s JOIN stages st ON st.id = s.stage_id
         WHERE p_target_type = 'segment' AND s.id = p_target_id
        UNION ALL
        SELECT NULL, NULL, NULL, st.id, st.event_id, NULL FROM stages st WHERE p_target_type = 'stage' AND st.id = p_target_id
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, e.id, NULL FROM events e WHERE p_target_type = 'event' AND e.id = p_target_id
    ), chain AS (  -- every attachment a formula for the target can have, with its level (higher = more specific)
        SELECT 'speed_limit_zone' AS kind, t.zone_id AS target_id, 5 AS level, t.event_id, coalesce(t.wtype, p_waypoint_type) AS wtype
          FROM target t WHERE t.zone_id IS NOT NULL
        UNION ALL SELECT 'waypoint', t.waypoint_id, 4, t.event_id, coalesce(t.wtype, p_waypoint_type) FROM target t WHERE t.waypoint_id IS NOT NULL
        UNION ALL SELECT 'segment', t.segment_id, 3, t.event_id, coalesce(t.wtype, p_waypoint_type) FROM target t WHERE t.segment_id IS NOT NULL
        UNION ALL SELECT 'stage', t.stage_id, 2, t.event_id, coalesce(t.wtype, p_waypoint_type) FROM target t WHERE t.stage_id IS NOT NULL
        UNION ALL SELECT 'event', NULL, 1, t.event_id, coalesce(t.wtype, p_waypoint_type) FROM target t
    ), candidates AS (
        SELECT f.*, c.level * 2 + (f.waypoint_type IS NOT NULL)::int AS specificity
          FROM chain c
          JOIN penalty_formulas f
            ON f.event_id = c.event_id AND f.type = p_type AND f.enabled
           AND f.belongs_to_type = c.kind AND f.belongs_to_id IS NOT DISTINCT FROM c.target_id
           AND (f.waypoint_type IS NULL OR f.waypoint_type = c.wtype)
    )
    SELECT c.id, c.event_id, c.type, c.belongs_to_type, c.belongs_to_id, c.waypoint_type, c.offence_min, c.offence_max,
           c.operator, c.penalty_seconds, c.placeholder, c.retroactive, c.summary, c.specificity
      FROM candidates c
     WHERE c.specificity = (SELECT max(x.specificity) FROM candidates x)
     ORDER BY c.offence_min NULLS FIRST
$$;

CREATE OR REPLACE FUNCTION trm_timing.stage_ranking(p_stage uuid)
RETURNS TABLE (result_id uuid, entry_id uuid, race_number integer, class_code text, elapsed_seconds integer,
               penalty_seconds integer, total_seconds integer, rank_overall integer, rank_class integer, status text)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT sr.id, sr.entry_id, e.race_number, e.class_id, c.code, sr.elapsed_seconds, sr.status,
               coalesce((SELECT sum(p.seconds) FROM entry_penalties p
                          WHERE p.entry_id = sr.entry_id AND p.stage_id = sr.stage_id AND p.status = 'applied'), 0)::integer AS pen
          FROM stage_results sr
          JOIN entries e ON e.id = sr.entry_id
          JOIN classes c ON c.id = e.class_id
         WHERE sr.stage_id = p_stage
    )
    SELECT r.id, r.entry_id, r.race_number, r.code::text, r.elapsed_seconds, r.pen, r.elapsed_seconds + r.pen,
           (CASE WHEN r.elapsed_seconds IS NOT NULL
                 THEN rank() OVER (PARTITION BY r.elapsed_seconds IS NULL ORDER BY r.elapsed_seconds + r.pen) END)::integer,
           (CASE WHEN r.elapsed_seconds IS NOT NULL
                 THEN rank() OVER (PARTITION BY r.elapsed_seconds IS NULL, r.class_id ORDER BY r.elapsed_seconds + r.pen) END)::integer,
           r.status::text
      FROM r
     ORDER BY r.elapsed_seconds IS NULL, r.elapsed_seconds + r.pen, r.race_number
$$;

CREATE OR REPLACE FUNCTION trm_timing.rank_stage(p_stage uuid) RETURNS integer
LANGUAGE sql AS $$
    WITH changed AS (
        UPDATE stage_results sr
           SET penalty_seconds = k.penalty_seconds, total_seconds = k.total_seconds,
               rank_overall = k.rank_overall, rank_class = k.rank_class
          FROM trm_timing.stage_ranking(p_stage) k
         WHERE sr.id = k.result_id AND sr.status = 'provisional'
           AND (sr.penalty_seconds, sr.total_seconds, sr.rank_overall, sr.rank_class)
               IS DISTINCT FROM (k.penalty_seconds, k.total_seconds, k.rank_overall, k.rank_class)
        RETURNING 1)
    SELECT count(*)::integer FROM changed
$$;

-- Keep the stored ranking current, once per stage and transaction: a row trigger marks the stages
-- a write touches (a transaction-local setting), a deferred constraint trigger re-ranks the marked
-- stages at commit and clears the mark, so a batch (the processor's upserts, a REST batch review)
-- costs one re-rank per stage, not one per row. Only what moves a ranking marks: an elapsed time,
-- an applied penalty (its status, seconds, entry or stage); rank_stage's own update marks nothing.
CREATE OR REPLACE FUNCTION trm_timing.mark_stage() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    dirty text := coalesce(current_setting('trm_timing.dirty_stages', true), '');
    s uuid;
BEGIN
    FOREACH s IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.stage_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.stage_id END] LOOP
        IF s IS NOT NULL AND strpos(dirty, s::text) = 0 THEN
            dirty := dirty || s::text || ',';
        END IF;
    END LOOP;
    PERFORM set_config('trm_timing.dirty_stages', dirty, true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION trm_timing.rank_marked_stages() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    dirty text := coalesce(current_setting('trm_timing.dirty_stages', true), '');
    s text;
BEGIN
    IF dirty <> '' THEN
        PERFORM set_config('trm_timing.dirty_stages', '', true);
        FOREACH s IN ARRAY string_to_array(rtrim(dirty, ','), ',') LOOP
            PERFORM trm_timing.rank_stage(s::uuid);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            ('stage_results', 'ins', 'INSERT', 'true'),
            ('stage_results', 'del', 'DELETE', 'true'),
            ('stage_results', 'upd', 'UPDATE',
             '(OLD.elapsed_seconds, OLD.stage_id, OLD.entry_id) IS DISTINCT FROM (NEW.elapsed_seconds, NEW.stage_id, NEW.entry_id)'),
            ('entry_penalties', 'ins', 'INSERT', $w$NEW.status = 'applied'$w$),
            ('entry_penalties', 'del', 'DELETE', $w$OLD.status = 'applied'$w$),
            ('entry_penalties', 'upd', 'UPDATE',
             $w$(OLD.status = 'applied' OR NEW.status = 'applied')
                AND (OLD.status, OLD.seconds, OLD.stage_id, OLD.entry_id) IS DISTINCT FROM (NEW.status, NEW.seconds, NEW.stage_id, NEW.entry_id)$w$)
        ) AS x(tbl, suffix, event, cond)
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %I FOR EACH ROW WHEN (%s) EXECUTE FUNCTION trm_timing.mark_stage()',
                       t.tbl || '_rank_mark_' || t.suffix, t.event, t.tbl, t.cond);
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = t.tbl || '_rank_' || t.suffix AND tgrelid = t.tbl::regclass) THEN
            EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER %s ON %I DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (%s) '
                           'EXECUTE FUNCTION trm_timing.rank_marked_stages()', t.tbl || '_rank_' || t.suffix, t.event, t.tbl, t.cond);
        END IF;
    END LOOP;
END
$$;

-- An entry changing class moves it between class rankings.
CREATE OR REPLACE FUNCTION trm_timing.rerank_entry_class() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s uuid;
BEGIN
    FOR s IN SELECT DISTINCT stage_id FROM stage_results WHERE entry_id = NEW.id LOOP
        PERFORM trm_timing.rank_stage(s);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER entries_rank_class
    AFTER UPDATE OF class_id ON entries
    FOR EACH ROW WHEN (OLD.class_id IS DISTINCT FROM NEW.class_id) EXECUTE FUNCTION trm_timing.rerank_entry_class();

-- Publishing: refused with proposed penalties; ranks once more before the stage turns official.
CREATE OR REPLACE FUNCTION trm_timing.stage_publish_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF NEW.status = 'official' AND OLD.status IS DISTINCT FROM 'official' THEN
        SELECT count(*) INTO n FROM entry_penalties WHERE stage_id = NEW.id AND status = 'proposed';
        IF n > 0 THEN
            RAISE EXCEPTION 'stages: stage % has % proposed penalt% awaiting review: apply or waive them before publishing',
                NEW.name, n, CASE WHEN n = 1 THEN 'y' ELSE 'ies' END USING ERRCODE = 'check_violation';
        END IF;
        PERFORM trm_timing.rank_stage(NEW.id);
    ELSIF OLD.status = 'official' AND NEW.status IS DISTINCT FROM 'official'
          AND EXISTS (SELECT 1 FROM stage_results WHERE stage_id = NEW.id AND status = 'official') THEN
        RAISE EXCEPTION 'stages: stage % is published: its official results are final', NEW.name USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER stages_publish_check
    BEFORE UPDATE OF status ON stages
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION trm_timing.stage_publish_check();

CREATE OR REPLACE FUNCTION trm_timing.stage_publish() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stage_results SET status = 'official', published_at = now() WHERE stage_id = NEW.id AND status = 'provisional';
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER stages_publish
    AFTER UPDATE OF status ON stages
    FOR EACH ROW WHEN (NEW.status = 'official' AND OLD.status IS DISTINCT FROM 'official')
    EXECUTE FUNCTION trm_timing.stage_publish();

-- Assert what this file promises.
DO $$
DECLARE
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['trm_timing.penalty_formula_for(text,text,uuid,text)', 'trm_timing.stage_ranking(uuid)',
                        'trm_timing.rank_stage(uuid)']) AS name
     WHERE to_regprocedure(name) IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '104: functions missing: %', array_to_string(missing, ', ');
    END IF;
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['stage_results_rank_ins', 'stage_results_rank_upd', 'stage_results_rank_del', 'entry_penalties_rank_ins',
                        'entry_penalties_rank_upd', 'entry_penalties_rank_del', 'stage_results_rank_mark_ins',
                        'stage_results_rank_mark_upd', 'stage_results_rank_mark_del', 'entry_penalties_rank_mark_ins',
                        'entry_penalties_rank_mark_upd', 'entry_penalties_rank_mark_del', 'entries_rank_class',
                        'stages_publish_check', 'stages_publish']) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = name AND NOT tgisinternal);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '104: triggers missing: %', array_to_string(missing, ', ');
    END IF;
END
$$;
