-- 113 (issue #26): rules re-imports keep history.
--
-- A rule whose brackets change is no longer deleted and re-created (which set
-- entry_penalties.formula_id to NULL): its rows are superseded (superseded_at set by the import,
-- enabled false so trm_timing.penalty_formula_for never picks them) and kept, with their values
-- frozen, so every penalty still names the rule and values it was computed with. The natural key
-- "one row per (rule, offence_min)" and the bracket check of 103 now hold for a rule's current rows
-- (superseded_at IS NULL) only. (Numbered 113: 112 is this issue's pre-schema file.)
-- Idempotent: IF NOT EXISTS, constraints by name, CREATE OR REPLACE.

-- superseded_at is a field of the model (model/timing.py): Directus created it in the schema step.
ALTER TABLE penalty_formulas DROP CONSTRAINT IF EXISTS penalty_formulas_rule_bracket_key;
CREATE UNIQUE INDEX IF NOT EXISTS penalty_formulas_rule_bracket_current_key
    ON penalty_formulas (event_id, type, belongs_to_type, belongs_to_id, waypoint_type, offence_min) NULLS NOT DISTINCT
    WHERE superseded_at IS NULL;
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_superseded_check',
    'CHECK (superseded_at IS NULL OR NOT enabled)');

-- 103's check of one rule's brackets, on its current rows only (superseded rows are history).
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
         WHERE event_id = p_event AND type = p_type AND belongs_to_type = p_kind AND superseded_at IS NULL
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

-- A superseded row's values are frozen: penalties were computed from them. Only its superseded_at
-- may be cleared again (with enabled), which is how an interrupted re-import puts the rule back.
-- No UPDATE OF / WHEN (design rule 9): the function compares the columns itself.
CREATE OR REPLACE FUNCTION trm_timing.superseded_formula_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.superseded_at IS NOT NULL
       AND (NEW.event_id, NEW.type, NEW.belongs_to_type, NEW.belongs_to_id, NEW.waypoint_type, NEW.offence_min,
            NEW.offence_max, NEW.operator, NEW.penalty_seconds, NEW.placeholder, NEW.retroactive)
           IS DISTINCT FROM
           (OLD.event_id, OLD.type, OLD.belongs_to_type, OLD.belongs_to_id, OLD.waypoint_type, OLD.offence_min,
            OLD.offence_max, OLD.operator, OLD.penalty_seconds, OLD.placeholder, OLD.retroactive) THEN
        RAISE EXCEPTION 'penalty_formulas: row % was superseded at % and is history (penalties were computed from it): '
                        'its values do not change', OLD.id, OLD.superseded_at
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER penalty_formulas_superseded_frozen
    BEFORE UPDATE ON penalty_formulas
    FOR EACH ROW EXECUTE FUNCTION trm_timing.superseded_formula_frozen();

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'penalty_formulas_superseded_check') THEN
        RAISE EXCEPTION '113: constraint penalty_formulas_superseded_check is missing';
    END IF;
    IF to_regclass('public.penalty_formulas_rule_bracket_current_key') IS NULL THEN
        RAISE EXCEPTION '113: index penalty_formulas_rule_bracket_current_key is missing';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'penalty_formulas_rule_bracket_key') THEN
        RAISE EXCEPTION '113: penalty_formulas_rule_bracket_key still constrains superseded rows';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'penalty_formulas_superseded_frozen' AND NOT tgisinternal) THEN
        RAISE EXCEPTION '113: trigger penalty_formulas_superseded_frozen is missing';
    END IF;
END
$$;
