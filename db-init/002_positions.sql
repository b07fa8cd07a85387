-- 002: the positions table, per the processor's DDL contract (domain.md "positions").
--
-- Owned by the processor, created here because the database is ours. It has no primary key
-- (unique (device_id, ts) instead, which TimescaleDB requires to contain the partition column),
-- so it can never be a Directus collection; it is also listed in DB_EXCLUDE_TABLES and filtered
-- out of snapshots (lessons.md "ghost collections"). device_id is the device IMEI, not the
-- devices UUID. Where TimescaleDB is installed it becomes a hypertable on ts with 1-day chunks.
-- Idempotent: IF NOT EXISTS everywhere; hypertable conversion only when not yet converted.

CREATE TABLE IF NOT EXISTS public.positions (
    device_id   text             NOT NULL,
    ts          timestamptz      NOT NULL,
    ingested_at timestamptz      NOT NULL DEFAULT now(),
    codec       text             NOT NULL,
    latitude    double precision NOT NULL,
    longitude   double precision NOT NULL,
    altitude    real             NOT NULL,
    angle       real             NOT NULL,
    speed       real             NOT NULL,
    satellites  smallint         NOT NULL,
    priority    smallint         NOT NULL,
    attributes  jsonb
);

COMMENT ON TABLE public.positions IS
    'GPS positions written by the processor (ON CONFLICT (device_id, ts) DO NOTHING); device_id is the IMEI';

CREATE UNIQUE INDEX IF NOT EXISTS positions_device_id_ts_key ON public.positions (device_id, ts);
CREATE INDEX IF NOT EXISTS positions_ts_idx ON public.positions (ts DESC);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('public.positions', 'ts',
                                  chunk_time_interval => INTERVAL '1 day',
                                  if_not_exists => TRUE,
                                  migrate_data => TRUE);
    END IF;
END
$$;

-- Assert what this file promises.
DO $$
DECLARE
    expected text[][] := ARRAY[
        ['device_id', 'text', 'NO'], ['ts', 'timestamp with time zone', 'NO'],
        ['ingested_at', 'timestamp with time zone', 'NO'], ['codec', 'text', 'NO'],
        ['latitude', 'double precision', 'NO'], ['longitude', 'double precision', 'NO'],
        ['altitude', 'real', 'NO'], ['angle', 'real', 'NO'], ['speed', 'real', 'NO'],
        ['satellites', 'smallint', 'NO'], ['priority', 'smallint', 'NO'], ['attributes', 'jsonb', 'YES']];
    i int;
BEGIN
    FOR i IN 1 .. array_length(expected, 1) LOOP
        IF NOT EXISTS (
            SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'positions'
               AND column_name = expected[i][1] AND data_type = expected[i][2] AND is_nullable = expected[i][3]
        ) THEN
            RAISE EXCEPTION '002: positions.% is missing or is not % (nullable %)', expected[i][1], expected[i][2], expected[i][3];
        END IF;
    END LOOP;
    IF to_regclass('public.positions_device_id_ts_key') IS NULL OR to_regclass('public.positions_ts_idx') IS NULL THEN
        RAISE EXCEPTION '002: positions indexes are missing';
    END IF;
    -- Nested so the timescaledb_information view is only parsed where the extension exists.
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF NOT EXISTS (
            SELECT 1 FROM timescaledb_information.hypertables
             WHERE hypertable_schema = 'public' AND hypertable_name = 'positions'
        ) THEN
            RAISE EXCEPTION '002: positions is not a hypertable although TimescaleDB is installed';
        END IF;
    END IF;
END
$$;
