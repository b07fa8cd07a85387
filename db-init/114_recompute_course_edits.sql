-- 114: course-edit requests in the recompute outbox (issue 29).
--
-- recompute_requests (010) gets the `course-edit` kind: saving a waypoint, geofence or speed zone of a
-- stage that has run records one request per (object, stage) in the same outbox as the faulty flag,
-- delivered to the same stream as a version 2 message (extensions/README.md "The stream message"):
-- the stage, the object (collection and id) and the fields that changed. The faulty-flag columns
-- become optional; a CHECK says which columns each kind carries. A pre-schema file, as 010: the
-- table is db-init's, and the boot's schema step fingerprints the public columns before the post
-- files run (a post file changing them would make every next boot redo the full schema check).
-- Idempotent: ADD COLUMN IF NOT EXISTS, constraints replaced by name.

ALTER TABLE public.recompute_requests ADD COLUMN IF NOT EXISTS stage_id uuid;
ALTER TABLE public.recompute_requests ADD COLUMN IF NOT EXISTS object_collection text;
ALTER TABLE public.recompute_requests ADD COLUMN IF NOT EXISTS object_id uuid;
ALTER TABLE public.recompute_requests ADD COLUMN IF NOT EXISTS changed_fields text[];
ALTER TABLE public.recompute_requests ALTER COLUMN device_id DROP NOT NULL;
ALTER TABLE public.recompute_requests ALTER COLUMN window_start DROP NOT NULL;
ALTER TABLE public.recompute_requests ALTER COLUMN window_end DROP NOT NULL;
ALTER TABLE public.recompute_requests ALTER COLUMN faulty DROP NOT NULL;
ALTER TABLE public.recompute_requests ALTER COLUMN rows_changed DROP NOT NULL;
ALTER TABLE public.recompute_requests DROP CONSTRAINT IF EXISTS recompute_requests_kind_check;
-- What each kind carries (the columns the stream message of that kind is made of).
ALTER TABLE public.recompute_requests DROP CONSTRAINT IF EXISTS recompute_requests_kind_shape_check;
ALTER TABLE public.recompute_requests ADD CONSTRAINT recompute_requests_kind_shape_check
    CHECK (CASE kind
        WHEN 'faulty-flag' THEN num_nonnulls(device_id, window_start, window_end, faulty, rows_changed) = 5
                                AND num_nonnulls(stage_id, object_collection, object_id, changed_fields) = 0
        WHEN 'course-edit' THEN num_nonnulls(stage_id, object_collection, object_id, changed_fields) = 4
                                AND object_collection IN ('waypoints', 'geofences', 'speed_limit_zones')
                                AND num_nonnulls(device_id, window_start, window_end, faulty, rows_changed) = 0
        ELSE false END);
CREATE INDEX IF NOT EXISTS recompute_requests_stage_idx
    ON public.recompute_requests (stage_id, requested_at DESC) WHERE stage_id IS NOT NULL;
COMMENT ON TABLE public.recompute_requests IS
    'Recompute requests (faulty flags, course edits) and their delivery to the Redis stream recompute:requests';


DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = 'recompute_requests' AND column_name = 'object_collection') THEN
        RAISE EXCEPTION '114: recompute_requests.object_collection is missing';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'recompute_requests_kind_shape_check') THEN
        RAISE EXCEPTION '114: recompute_requests_kind_shape_check is missing';
    END IF;
END
$$;
