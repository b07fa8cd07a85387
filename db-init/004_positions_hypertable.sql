-- 004: positions is a hypertable wherever TimescaleDB exists, also in a database first built without it.
--
-- 001 creates the extension and 002 converts positions only when TimescaleDB is there at the time
-- they are applied. A database built in optional mode (TRM_TIMESCALEDB=optional, a server without
-- TimescaleDB) keeps a plain positions table; once its server has TimescaleDB, this file creates
-- the extension and converts the table with its rows (migrate_data: the rows are copied into
-- 1-day chunks under an exclusive lock, in this file's transaction: 200,000 rows took 19 s on a
-- busy 2-core machine).
-- In optional mode on a server without TimescaleDB it changes nothing (001 said so loudly); in
-- required mode without it, it refuses like 001.
-- Idempotent: the extension and the conversion only happen when missing.

DO $$
DECLARE
    mode text := coalesce(nullif(current_setting('trm.timescaledb', true), ''), 'required');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
        ELSIF mode = 'optional' THEN
            RETURN;
        ELSE
            RAISE EXCEPTION 'TimescaleDB is required but not available on this server'
                USING HINT = 'run on a PostgreSQL with TimescaleDB (e.g. the timescaledb-ha image), or set '
                             'TRM_TIMESCALEDB=optional for a development or test stack';
        END IF;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM timescaledb_information.hypertables
         WHERE hypertable_schema = 'public' AND hypertable_name = 'positions'
    ) THEN
        PERFORM create_hypertable('public.positions', 'ts',
                                  chunk_time_interval => INTERVAL '1 day',
                                  if_not_exists => TRUE,
                                  migrate_data => TRUE);
    END IF;
END
$$;

-- Assert what this file promises. Nested so the timescaledb_information view is only parsed where
-- the extension exists.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF NOT EXISTS (
            SELECT 1 FROM timescaledb_information.dimensions
             WHERE hypertable_schema = 'public' AND hypertable_name = 'positions' AND column_name = 'ts'
        ) THEN
            RAISE EXCEPTION '004: positions is not a hypertable on ts although TimescaleDB is installed';
        END IF;
    ELSIF coalesce(nullif(current_setting('trm.timescaledb', true), ''), 'required') = 'required' THEN
        RAISE EXCEPTION '004: timescaledb extension is missing after creation';
    END IF;
END
$$;
