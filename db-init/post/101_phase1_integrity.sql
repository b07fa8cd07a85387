-- 101: integrity of the Phase 1 collections that Directus cannot express (domain.md "Phase 1").
--
-- Composite uniques, the "class of the same event" rule (a composite foreign key), and check
-- constraints that back up Directus's field validation for every other writer. Through the
-- API, unique and foreign-key violations answer 400 (RECORD_NOT_UNIQUE / INVALID_FOREIGN_KEY);
-- field validation answers 400 before a check could fire; ends_at > starts_at is checked with a
-- client error by the trm-integrity extension first.
-- Idempotent: every constraint is added by name only when missing.

SELECT trm_db_init.ensure_constraint('organization_users', 'organization_users_org_user_key', 'UNIQUE (organization_id, user_id)');
SELECT trm_db_init.ensure_constraint('organization_vehicles', 'organization_vehicles_org_vehicle_key', 'UNIQUE (organization_id, vehicle_id)');
SELECT trm_db_init.ensure_constraint('organization_devices', 'organization_devices_org_device_key', 'UNIQUE (organization_id, device_id)');
SELECT trm_db_init.ensure_constraint('events', 'events_org_slug_key', 'UNIQUE (organization_id, slug)');
SELECT trm_db_init.ensure_constraint('classes', 'classes_event_code_key', 'UNIQUE (event_id, code)');
SELECT trm_db_init.ensure_constraint('entries', 'entries_event_race_number_key', 'UNIQUE (event_id, race_number)');
SELECT trm_db_init.ensure_constraint('entry_crew', 'entry_crew_entry_user_key', 'UNIQUE (entry_id, user_id)');
SELECT trm_db_init.ensure_constraint('entry_devices', 'entry_devices_entry_device_key', 'UNIQUE (entry_id, device_id)');

-- An entry's class belongs to the entry's event: (class_id, event_id) must be a (id, event_id) of classes.
SELECT trm_db_init.ensure_constraint('classes', 'classes_id_event_key', 'UNIQUE (id, event_id)');
SELECT trm_db_init.ensure_constraint('entries', 'entries_class_same_event_fkey',
    'FOREIGN KEY (class_id, event_id) REFERENCES classes (id, event_id) ON DELETE RESTRICT');

-- Checks (the same rules as the fields' validation in Directus).
SELECT trm_db_init.ensure_constraint('events', 'events_ends_after_starts_check', 'CHECK (ends_at > starts_at)');
SELECT trm_db_init.ensure_constraint('events', 'events_discipline_check',
    $c$CHECK (discipline IN ('rally', 'time-trial', 'regatta', 'trail-run', 'hike'))$c$);
SELECT trm_db_init.ensure_constraint('events', 'events_slug_check', $c$CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')$c$);
SELECT trm_db_init.ensure_constraint('organizations', 'organizations_slug_check', $c$CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')$c$);
SELECT trm_db_init.ensure_constraint('organization_users', 'organization_users_role_check',
    $c$CHECK (role IN ('org-admin', 'race-director', 'marshal', 'timekeeper', 'participant', 'viewer'))$c$);
SELECT trm_db_init.ensure_constraint('devices', 'devices_imei_check', $c$CHECK (imei ~ '^[0-9]{15}$')$c$);
SELECT trm_db_init.ensure_constraint('vehicles', 'vehicles_year_check', 'CHECK (year BETWEEN 1900 AND 2100)');
SELECT trm_db_init.ensure_constraint('vehicles', 'vehicles_cc_check', 'CHECK (cc > 0)');
SELECT trm_db_init.ensure_constraint('classes', 'classes_code_check', $c$CHECK (code ~ '^[A-Z]{1,3}-[0-9A-Z]{1,3}$')$c$);
SELECT trm_db_init.ensure_constraint('entries', 'entries_race_number_check', 'CHECK (race_number > 0)');
SELECT trm_db_init.ensure_constraint('entries', 'entries_status_check',
    $c$CHECK (status IN ('registered', 'confirmed', 'scrutineered', 'started', 'finished', 'retired', 'disqualified', 'withdrawn'))$c$);
SELECT trm_db_init.ensure_constraint('entry_crew', 'entry_crew_role_check',
    $c$CHECK (role IN ('pilot', 'co-pilot', 'navigator', 'mechanic', 'rider', 'runner', 'hiker'))$c$);
SELECT trm_db_init.ensure_constraint('entry_devices', 'entry_devices_purpose_check',
    $c$CHECK (purpose IS NULL OR purpose IN ('chassis', 'backup', 'panic-button'))$c$);

-- Assert what this file promises.
DO $$
DECLARE
    expected text[] := ARRAY[
        'organization_users_org_user_key', 'organization_vehicles_org_vehicle_key', 'organization_devices_org_device_key',
        'events_org_slug_key', 'classes_event_code_key', 'entries_event_race_number_key', 'entry_crew_entry_user_key',
        'entry_devices_entry_device_key', 'classes_id_event_key', 'entries_class_same_event_fkey',
        'events_ends_after_starts_check', 'events_discipline_check', 'events_slug_check', 'organizations_slug_check',
        'organization_users_role_check', 'devices_imei_check', 'vehicles_year_check', 'vehicles_cc_check',
        'classes_code_check', 'entries_race_number_check', 'entries_status_check', 'entry_crew_role_check',
        'entry_devices_purpose_check'];
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing FROM unnest(expected) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = name);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '101: constraints missing: %', array_to_string(missing, ', ');
    END IF;
END
$$;
