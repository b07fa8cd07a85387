"""What a restore must bring back: rows and checksums of every table, hypertable chunk and the migration ledger.

Every table of the public schema (the collections, Directus's own `directus_*` tables, the
db-init tables such as `positions` and `recompute_requests`) through `db/rowsums.py`, plus
the rows of each TimescaleDB chunk of `positions` (a chunk restored empty or missing shows even
when the totals agree) and the `trm_db_init.ledger`. Also how long ago the last archived WAL
segment was written (the recovery point's clock).
"""

from __future__ import annotations

import time

import psycopg

from ..db import rowsums

PUBLIC_TABLES = "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
CHUNKS = """
SELECT format('%I.%I', chunk_schema, chunk_name) FROM timescaledb_information.chunks
 WHERE hypertable_name = 'positions' ORDER BY range_start
"""
CHUNK_SUM = "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') FROM (SELECT x::text AS r FROM {chunk} x) s"
LEDGER = (
    "SELECT count(*), coalesce(md5(string_agg(file_name || ':' || checksum, ',' ORDER BY file_name)), '') FROM trm_db_init.ledger"
)


def measure(dsn: str) -> dict[str, rowsums.Table]:
    """Name → rows and checksum, for every table, every chunk (`chunk:<schema.name>`) and the ledger."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        owned = {r[0] for r in conn.execute(PUBLIC_TABLES)}
        found = rowsums.measure(conn, owned)
        if conn.execute("SELECT to_regclass('timescaledb_information.chunks') IS NOT NULL").fetchone()[0]:
            for (chunk,) in conn.execute(CHUNKS).fetchall():
                rows, checksum = conn.execute(CHUNK_SUM.format(chunk=chunk)).fetchone()
                found[f"chunk:{chunk}"] = rowsums.Table(("*",), rows, checksum)
        rows, checksum = conn.execute(LEDGER).fetchone()
        found["trm_db_init.ledger"] = rowsums.Table(("file_name", "checksum"), rows, checksum)
    return found


def compare(before: dict[str, rowsums.Table], after: dict[str, rowsums.Table]) -> tuple[list[str], list[str]]:
    """(a line per table with its rows before → after, the problems); tables only after the restore are problems too."""
    lines, problems = rowsums.compare(before, after)
    extra = sorted(set(after) - set(before))
    problems += [f"{name}: not there before the restore ({after[name].rows} rows)" for name in extra]
    return lines, problems


def wait_archived(dsn: str, timeout: float = 120) -> float:
    """Wait until the WAL segment holding everything committed so far is archived; seconds waited."""
    t0 = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").fetchone()[0]
        while True:
            last = conn.execute("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").fetchone()[0]
            if last[:24] >= segment:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"WAL segment {segment} not archived after {timeout:.0f}s (last archived: {last or 'none'})")
            time.sleep(0.2)
