-- 111: device commands (issue 28): the default command kinds, the status check, the index of open commands.
--
-- Kinds are data (command_kinds, a Directus collection): these four rows are what a Teltonika
-- tracker understands and what an operator needs during a stage; an administrator may edit or add
-- kinds, and this file never overwrites them (ON CONFLICT DO NOTHING). parameters_schema is the JSON
-- Schema subset extensions/trm-operations/src/commands/params.ts checks; timeouts are what a device
-- on a GPRS link answers within in practice.

INSERT INTO command_kinds (code, name, description, parameters_schema, timeout_seconds, enabled) VALUES
    ('getgps', 'Ask for a position',
     'The device answers with its current fix (GPS time, latitude, longitude, speed, satellites).',
     '{"type": "object", "properties": {}, "additionalProperties": false}', 60, true),
    ('getinfo', 'Ask for the device status',
     'The device answers with its status: GSM signal, GPS state, uptime, records in memory.',
     '{"type": "object", "properties": {}, "additionalProperties": false}', 60, true),
    ('setdigout', 'Switch digital outputs',
     'outputs: one character per output, 1 = on, 0 = off, ? = leave as is (e.g. "1?"); durations: seconds per output after which it switches back (0 = stay).',
     '{"type": "object", "required": ["outputs"], "additionalProperties": false, "properties": {"outputs": {"type": "string", "pattern": "^[01?]{1,4}$"}, "durations": {"type": "array", "maxItems": 4, "items": {"type": "integer", "minimum": 0, "maximum": 3600}}}}',
     60, true),
    ('setperiod', 'Change the reporting period',
     'seconds: how often the device records and sends a position while moving (1 to 3600).',
     '{"type": "object", "required": ["seconds"], "additionalProperties": false, "properties": {"seconds": {"type": "integer", "minimum": 1, "maximum": 3600}}}',
     60, true)
ON CONFLICT (code) DO NOTHING;

SELECT trm_db_init.ensure_constraint('commands', 'commands_status_check',
    $c$CHECK (status IN ('queued', 'sent', 'acked', 'nacked', 'timed_out', 'failed'))$c$);

-- The resend schedule reads queued commands oldest first, the timeout schedule sent ones by age.
CREATE INDEX IF NOT EXISTS commands_open_idx ON commands (status, queued_at) WHERE status IN ('queued', 'sent');

DO $check$
BEGIN
    IF (SELECT count(*) FROM command_kinds WHERE code IN ('getgps', 'getinfo', 'setdigout', 'setperiod')) < 4 THEN
        RAISE EXCEPTION '111: the default command kinds are missing';
    END IF;
END
$check$;
