-- 108: the time controls that open and close a liaison or a neutralization get their own waypoint
-- types (issue #25): DT / FT (start / end of a liaison, OpenRally dt / ft) and SN / FN (start / end
-- of a neutralization, OpenRally neutralization / fn), beside TC (timecontrol). They only delimit a
-- segment, so the course import does not check their radii for overlap, and each takes its own
-- radius default (README, "Course import").
--
-- Replaces the three type CHECKs of 102 and 103 (an applied file is never edited) with the same
-- lists plus DT, FT, SN, FN — the choices of model/course.py WAYPOINT_TYPES. Every existing row
-- satisfies the wider list. Idempotent: drop if present, then add.

ALTER TABLE waypoints DROP CONSTRAINT IF EXISTS waypoints_type_check;
SELECT trm_db_init.ensure_constraint('waypoints', 'waypoints_type_check',
    $c$CHECK (type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC',
                       'DT', 'FT', 'SN', 'FN'))$c$);

ALTER TABLE waypoint_radius_defaults DROP CONSTRAINT IF EXISTS waypoint_radius_defaults_type_check;
SELECT trm_db_init.ensure_constraint('waypoint_radius_defaults', 'waypoint_radius_defaults_type_check',
    $c$CHECK (waypoint_type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC',
                                'DT', 'FT', 'SN', 'FN'))$c$);

ALTER TABLE penalty_formulas DROP CONSTRAINT IF EXISTS penalty_formulas_waypoint_type_check;
SELECT trm_db_init.ensure_constraint('penalty_formulas', 'penalty_formulas_waypoint_type_check',
    $c$CHECK (waypoint_type IS NULL OR (type = 'missed_waypoint' AND belongs_to_type IN ('event', 'stage', 'segment')
              AND waypoint_type IN ('DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'DZ', 'FZ', 'CP', 'TC',
                                    'DT', 'FT', 'SN', 'FN')))$c$);

DO $$
DECLARE
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['waypoints_type_check', 'waypoint_radius_defaults_type_check',
                        'penalty_formulas_waypoint_type_check']) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = name AND pg_get_constraintdef(oid) LIKE '%''FN''%');
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '108: constraints missing or without the new types: %', array_to_string(missing, ', ');
    END IF;
END
$$;
