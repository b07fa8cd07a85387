-- 100: helpers for post-schema SQL (in the trm_db_init schema, invisible to Directus).
--
-- trm_db_init.ensure_constraint(table, name, definition) adds a named constraint unless one with
-- that name exists on the table, so constraint files stay idempotent without repeating the
-- pg_constraint lookup. Idempotent: CREATE OR REPLACE.

CREATE SCHEMA IF NOT EXISTS trm_db_init;

CREATE OR REPLACE FUNCTION trm_db_init.ensure_constraint(p_table regclass, p_name text, p_definition text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = p_table AND conname = p_name) THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', p_table, p_name, p_definition);
    RETURN true;
END
$$;

COMMENT ON FUNCTION trm_db_init.ensure_constraint(regclass, text, text) IS
    'Add a named constraint unless the table already has one with that name (db-init post files)';

DO $$
BEGIN
    IF to_regprocedure('trm_db_init.ensure_constraint(regclass, text, text)') IS NULL THEN
        RAISE EXCEPTION '100: trm_db_init.ensure_constraint is missing';
    END IF;
END
$$;
