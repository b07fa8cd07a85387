-- 001: database extensions TRM needs before Directus applies its schema.
--
-- PostGIS is always required (geometry fields, SRID 4326). TimescaleDB is required in production
-- (the positions hypertable); a stack without it may proceed only when the runner is started with
-- TRM_TIMESCALEDB=optional, which it passes to this file as the setting trm.timescaledb. That path
-- is loud (a WARNING in the boot log), never silent.
-- Idempotent: CREATE EXTENSION IF NOT EXISTS; the DO blocks only create what is missing.

CREATE EXTENSION IF NOT EXISTS postgis;

DO $$
DECLARE
    mode text := coalesce(nullif(current_setting('trm.timescaledb', true), ''), 'required');
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    ELSIF mode = 'optional' THEN
        RAISE WARNING 'TimescaleDB is not available on this server: positions stays a plain table '
            '(TRM_TIMESCALEDB=optional). Production must run on a server with TimescaleDB.';
    ELSE
        RAISE EXCEPTION 'TimescaleDB is required but not available on this server'
            USING HINT = 'run on a PostgreSQL with TimescaleDB (e.g. the timescaledb-ha image), or set '
                         'TRM_TIMESCALEDB=optional for a development or test stack';
    END IF;
END
$$;

-- Assert what this file promises.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
        RAISE EXCEPTION '001: postgis extension is missing after creation';
    END IF;
    IF coalesce(nullif(current_setting('trm.timescaledb', true), ''), 'required') = 'required'
       AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RAISE EXCEPTION '001: timescaledb extension is missing after creation';
    END IF;
END
$$;
