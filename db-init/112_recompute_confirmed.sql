-- 112 (issue #26): the recompute outbox no longer takes Redis's word for a delivery.
--
-- recompute_requests (010) marked a request sent as soon as XADD succeeded; a Redis that restarted
-- without its data dropped requests the database counted as delivered. Now a sent row is
-- confirmed (confirmed_at) only when the extension's schedule finds its entry still in the stream
-- CONFIRM_AFTER_SECONDS after sending (extensions/trm-operations/src/faulty/confirm.ts); a row
-- whose entry is gone is made pending again and re-sent. Rows sent before this file cannot be
-- checked any more (the processor may have trimmed them): they count as confirmed when sent.
-- Pre-schema, like 010: a column added after the schema step would change the database fingerprint
-- the boot's fast path compares (schema/state.py) and cost the next boot a full schema check.
-- Idempotent: IF NOT EXISTS, constraints by name.

ALTER TABLE public.recompute_requests ADD COLUMN IF NOT EXISTS confirmed_at timestamptz;
UPDATE public.recompute_requests SET confirmed_at = sent_at WHERE sent_at IS NOT NULL AND confirmed_at IS NULL;
DO $$
BEGIN
    -- post/100's ensure_constraint does not exist yet in the pre-schema phase of a new database.
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'recompute_requests_confirmed_check') THEN
        ALTER TABLE public.recompute_requests
            ADD CONSTRAINT recompute_requests_confirmed_check CHECK (confirmed_at IS NULL OR sent_at IS NOT NULL);
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS recompute_requests_unconfirmed_idx
    ON public.recompute_requests (sent_at) WHERE sent_at IS NOT NULL AND confirmed_at IS NULL;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'recompute_requests_confirmed_check') THEN
        RAISE EXCEPTION '112: constraint recompute_requests_confirmed_check is missing';
    END IF;
    IF to_regclass('public.recompute_requests_unconfirmed_idx') IS NULL THEN
        RAISE EXCEPTION '112: index recompute_requests_unconfirmed_idx is missing';
    END IF;
END
$$;
