-- 116: what the entry timeline reads (GET /trm/entries/:id/timeline, issue 29), and the indexes that
-- keep Directus's activity and revisions fast to read and to trim.
--
-- Indexes. The timeline reads an entry's history by item: directus_activity and directus_revisions
-- by (collection, item). Directus 11.17.4 indexes activity.timestamp (the retention job's scan),
-- revisions.activity (the cascade when retention deletes activity) and revisions.parent itself;
-- without an index by item every timeline read scans both tables, and Directus's own issue tracker
-- reports 504s at about a million activity rows (lessons.md). Both are two-column indexes: a
-- single-column index would flip the field's `is_indexed` in Directus's schema snapshot.
--
-- The part log. Directus's create revision leaves out every relational field (ItemsService.createOne
-- omits them from `data`), and a deleted row leaves an activity row without data: so the crew member
-- a crew row added, the device of a removed assignment, or an entry's class before its first change
-- are nowhere in Directus. trm_audit.entry_rows records every row that is inserted into or deleted
-- from an entry or a table that hangs off it, whoever writes (Directus, the processor's SQL, stage
-- opening), in the write's own transaction, as it was (jsonb). Crossings are left out: the processor
-- writes them in bulk and they are data, not history. Statement triggers with transition tables:
-- one insert per statement, however many rows. Design rule 9: no column is named in a trigger.
-- The rows are kept as long as Directus keeps activity (trm-operations trims them with
-- ACTIVITY_RETENTION when RETENTION_ENABLED is true).
-- Idempotent: IF NOT EXISTS, CREATE OR REPLACE.

CREATE INDEX IF NOT EXISTS directus_activity_collection_item_index ON directus_activity (collection, item);
CREATE INDEX IF NOT EXISTS directus_revisions_collection_item_index ON directus_revisions (collection, item);

CREATE SCHEMA IF NOT EXISTS trm_audit;
COMMENT ON SCHEMA trm_audit IS 'TRM entry history that Directus does not keep (db-init/post/116); not a Directus schema';

CREATE TABLE IF NOT EXISTS trm_audit.entry_rows (
    id         bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),  -- the transaction's start, as directus_activity.timestamp
    op         text        NOT NULL CHECK (op IN ('insert', 'delete')),
    collection text        NOT NULL,
    item       text        NOT NULL,
    entry_id   uuid        NOT NULL,
    row        jsonb       NOT NULL
);
COMMENT ON TABLE trm_audit.entry_rows IS
    'Rows inserted into or deleted from entries and the tables that hang off them, as they were (the entry timeline)';
CREATE INDEX IF NOT EXISTS entry_rows_entry_idx ON trm_audit.entry_rows (entry_id, at);
CREATE INDEX IF NOT EXISTS entry_rows_at_idx ON trm_audit.entry_rows (at);

CREATE OR REPLACE FUNCTION trm_audit.log_rows() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- TG_ARGV[0]: the column holding the entry ('id' for entries themselves).
    IF TG_OP = 'INSERT' THEN
        INSERT INTO trm_audit.entry_rows (op, collection, item, entry_id, row)
        SELECT 'insert', TG_TABLE_NAME, j->>'id', (j->>TG_ARGV[0])::uuid, j
          FROM (SELECT to_jsonb(r) AS j FROM added r) x WHERE j->>TG_ARGV[0] IS NOT NULL;
    ELSE
        INSERT INTO trm_audit.entry_rows (op, collection, item, entry_id, row)
        SELECT 'delete', TG_TABLE_NAME, j->>'id', (j->>TG_ARGV[0])::uuid, j
          FROM (SELECT to_jsonb(r) AS j FROM removed r) x WHERE j->>TG_ARGV[0] IS NOT NULL;
    END IF;
    RETURN NULL;
END
$fn$;

DO $$
DECLARE
    t text;
    col text;
BEGIN
    FOREACH t IN ARRAY ARRAY['entries', 'entry_crew', 'entry_devices', 'entry_penalties', 'entry_segment_starts', 'stage_results'] LOOP
        col := CASE t WHEN 'entries' THEN 'id' ELSE 'entry_id' END;
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS added '
                       'FOR EACH STATEMENT EXECUTE FUNCTION trm_audit.log_rows(%L)', t || '_log_insert', t, col);
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS removed '
                       'FOR EACH STATEMENT EXECUTE FUNCTION trm_audit.log_rows(%L)', t || '_log_delete', t, col);
    END LOOP;
END
$$;

-- Rows that exist already: recorded as inserted when this file ran (their creation is in Directus's
-- activity, when it was made through Directus; the log gives the values the create revision lacks).
INSERT INTO trm_audit.entry_rows (op, collection, item, entry_id, row)
SELECT 'insert', x.collection, x.j->>'id', (x.j->>x.col)::uuid, x.j
  FROM (SELECT 'entries' AS collection, 'id' AS col, to_jsonb(r) AS j FROM entries r
        UNION ALL SELECT 'entry_crew', 'entry_id', to_jsonb(r) FROM entry_crew r
        UNION ALL SELECT 'entry_devices', 'entry_id', to_jsonb(r) FROM entry_devices r
        UNION ALL SELECT 'entry_penalties', 'entry_id', to_jsonb(r) FROM entry_penalties r
        UNION ALL SELECT 'entry_segment_starts', 'entry_id', to_jsonb(r) FROM entry_segment_starts r
        UNION ALL SELECT 'stage_results', 'entry_id', to_jsonb(r) FROM stage_results r) x
 WHERE x.j->>x.col IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM trm_audit.entry_rows l WHERE l.collection = x.collection AND l.item = x.j->>'id');

DO $check$
DECLARE
    missing text[];
BEGIN
    SELECT array_agg(name) INTO missing
      FROM unnest(ARRAY['directus_activity_collection_item_index', 'directus_revisions_collection_item_index',
                        'trm_audit.entry_rows', 'trm_audit.entry_rows_entry_idx']) AS name
     WHERE to_regclass(name) IS NULL;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '116: missing: %', array_to_string(missing, ', ');
    END IF;
    IF (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\_log\_insert' OR tgname LIKE '%\_log\_delete') < 12 THEN
        RAISE EXCEPTION '116: the entry_rows triggers are missing';
    END IF;
END
$check$;
