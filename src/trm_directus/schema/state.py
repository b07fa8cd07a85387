"""What the database's Directus schema looked like after the last verified apply (boot fast path).

The fingerprint covers Directus's metadata (directus_collections, directus_fields,
directus_relations) and the columns of the public schema. When the committed snapshot, the
Directus version and this fingerprint are all unchanged since the last apply that left the
database equal to the snapshot, a new apply cannot change anything, and boot skips the two
Directus CLI start-ups it would cost. Any change (a field added in the admin UI, a new snapshot,
an upgrade) takes the full path. `TRM_SCHEMA_APPLY_FULL=true` forces the full path.
"""

from __future__ import annotations

import hashlib
import json

import psycopg

STATE_TABLE = "trm_db_init.schema_state"

_FINGERPRINT_SQL = """
SELECT
  (SELECT coalesce(json_agg(row_to_json(c) ORDER BY c.collection), '[]') FROM directus_collections c),
  (SELECT coalesce(json_agg(row_to_json(f) ORDER BY f.collection, f.field), '[]') FROM directus_fields f),
  (SELECT coalesce(json_agg(row_to_json(r) ORDER BY r.many_collection, r.many_field), '[]') FROM directus_relations r),
  (SELECT coalesce(json_agg(json_build_array(table_name, column_name, data_type, udt_name, is_nullable, column_default,
                                             character_maximum_length, numeric_precision, numeric_scale)
                            ORDER BY table_name, column_name), '[]')
     FROM information_schema.columns WHERE table_schema = 'public')
"""

_USER_METADATA_SQL = """
SELECT (SELECT count(*) FROM directus_collections WHERE collection NOT LIKE 'directus\\_%')
     + (SELECT count(*) FROM directus_fields WHERE collection NOT LIKE 'directus\\_%')
     + (SELECT count(*) FROM directus_relations WHERE many_collection NOT LIKE 'directus\\_%')
"""


def fingerprint(conn: psycopg.Connection) -> str:
    row = conn.execute(_FINGERPRINT_SQL).fetchone()
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()


def has_user_schema(conn: psycopg.Connection) -> bool:
    """False when Directus knows no user collection, field or relation (a freshly bootstrapped database)."""
    return conn.execute(_USER_METADATA_SQL).fetchone()[0] > 0


def snapshot_digest(text: str, directus_version: str) -> str:
    return hashlib.sha256(f"{directus_version}\n{text}".encode()).hexdigest()


def recorded(conn: psycopg.Connection) -> tuple[str, str] | None:
    if conn.execute("SELECT to_regclass(%s)", (STATE_TABLE,)).fetchone()[0] is None:
        return None
    row = conn.execute(f"SELECT snapshot_digest, db_fingerprint FROM {STATE_TABLE} WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else None


def record(conn: psycopg.Connection, digest: str) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS trm_db_init")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (id int PRIMARY KEY CHECK (id = 1), snapshot_digest text NOT NULL,"
        " db_fingerprint text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
    )
    conn.execute(
        f"INSERT INTO {STATE_TABLE} (id, snapshot_digest, db_fingerprint) VALUES (1, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET snapshot_digest = EXCLUDED.snapshot_digest,"
        " db_fingerprint = EXCLUDED.db_fingerprint, recorded_at = now()",
        (digest, fingerprint(conn)),
    )


def forget(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT to_regclass(%s)", (STATE_TABLE,)).fetchone()[0] is not None:
        conn.execute(f"DELETE FROM {STATE_TABLE}")
