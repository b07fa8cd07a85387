-- 010: the recompute-request outbox of the faulty-position flag (extensions/trm-operations).
--
-- One row per flag request, written in the same transaction as the positions update, so a request
-- is never lost: sent_at stays NULL until XADD to the Redis stream `recompute:requests` succeeded
-- (stream_id is the entry id Redis gave it). Pending rows are re-sent by the next flag call and by
-- the extension's schedule. Owned by db-init, not a Directus collection: listed in
-- DB_EXCLUDE_TABLES and filtered out of snapshots like positions. requested_by is a
-- directus_users id without a foreign key (pre-schema: directus_users may not exist yet, and the
-- audit row must outlive the user). Numbered 010 to leave 004-009 to other pre-schema work.
-- Idempotent: IF NOT EXISTS everywhere.

CREATE TABLE IF NOT EXISTS public.recompute_requests (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text        NOT NULL DEFAULT 'faulty-flag' CHECK (kind IN ('faulty-flag')),
    device_id     text        NOT NULL,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    faulty        boolean     NOT NULL,
    reason        text        NOT NULL CHECK (length(btrim(reason)) > 0),
    requested_by  uuid,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    rows_changed  integer     NOT NULL CHECK (rows_changed >= 0),
    sent_at       timestamptz,
    stream_id     text,
    send_attempts integer     NOT NULL DEFAULT 0,
    last_error    text,
    CONSTRAINT recompute_requests_window_check CHECK (window_end > window_start),
    CONSTRAINT recompute_requests_sent_check CHECK ((sent_at IS NULL) = (stream_id IS NULL))
);

COMMENT ON TABLE public.recompute_requests IS
    'Faulty-flag requests (who, when, window, reason, rows changed) and their delivery to the Redis stream recompute:requests';

CREATE INDEX IF NOT EXISTS recompute_requests_pending_idx
    ON public.recompute_requests (requested_at) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS recompute_requests_device_idx
    ON public.recompute_requests (device_id, requested_at DESC);

-- Assert what this file promises.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'recompute_requests' AND column_name = 'sent_at'
    ) THEN
        RAISE EXCEPTION '010: recompute_requests.sent_at is missing';
    END IF;
    IF to_regclass('public.recompute_requests_pending_idx') IS NULL THEN
        RAISE EXCEPTION '010: index recompute_requests_pending_idx is missing';
    END IF;
END
$$;
