-- 003: operators flag faulty positions; the processor reads only non-faulty ones.
--
-- The processor never writes `faulty` (it inserts with ON CONFLICT DO NOTHING); the flag is set by
-- the faulty-flag endpoint (Phase 5). The partial index serves the processor's hot read:
-- a device's recent non-faulty positions.
-- Idempotent: ADD COLUMN IF NOT EXISTS, CREATE INDEX IF NOT EXISTS.

ALTER TABLE public.positions ADD COLUMN IF NOT EXISTS faulty boolean NOT NULL DEFAULT false;

CREATE INDEX IF NOT EXISTS positions_device_ts_not_faulty_idx
    ON public.positions (device_id, ts DESC)
    WHERE NOT faulty;

-- Assert what this file promises.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'positions' AND column_name = 'faulty'
           AND data_type = 'boolean' AND is_nullable = 'NO' AND column_default = 'false'
    ) THEN
        RAISE EXCEPTION '003: positions.faulty is missing or is not boolean not null default false';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_indexes
         WHERE schemaname = 'public' AND indexname = 'positions_device_ts_not_faulty_idx'
           AND indexdef LIKE '%WHERE (NOT faulty)%'
    ) THEN
        RAISE EXCEPTION '003: partial index positions_device_ts_not_faulty_idx is missing';
    END IF;
END
$$;
