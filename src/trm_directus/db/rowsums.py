"""Row counts and value checksums per table: what an upgrade boot must neither lose nor change.

Tables: every Directus collection's table and every db-init-owned table (`positions`, …). A
table's checksum is the md5 of its rows' text (the columns it had before the upgrade, rows in text
order), so a change of a value, a lost row or a dropped column shows; a column the upgrade adds is
not part of it. Widening a type (varchar(40) → varchar(60), integer → bigint) keeps the text;
anything that rewrites values (a narrowed varchar, rounded numbers) changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

TABLES = """
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND (c.relname IN (SELECT collection FROM directus_collections) OR c.relname = ANY(%s))
 ORDER BY 1
"""
COLUMNS = "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
SUM = "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '') FROM (SELECT ROW({cols})::text AS r FROM {t}) AS x"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: int
    checksum: str


def measure(conn: psycopg.Connection, owned: set[str], columns: dict[str, tuple[str, ...]] | None = None) -> dict[str, Table]:
    """Every table's rows and checksum; with `columns` (a previous measure's), over those tables and columns."""
    names = list(columns) if columns is not None else [r[0] for r in conn.execute(TABLES, (sorted(owned),))]
    out: dict[str, Table] = {}
    for name in names:
        have = tuple(r[0] for r in conn.execute(COLUMNS, (f'public."{name}"',))) if _exists(conn, name) else ()
        cols = tuple(c for c in (columns[name] if columns is not None else have) if c in have)
        if not cols:
            out[name] = Table((), 0, "")
            continue
        query = sql.SQL(SUM).format(cols=sql.SQL(", ").join(map(sql.Identifier, cols)), t=sql.Identifier(name))
        rows, checksum = conn.execute(query).fetchone()
        out[name] = Table(cols, rows, checksum)
    return out


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'public."{name}"',)).fetchone()[0]


def compare(before: dict[str, Table], after: dict[str, Table]) -> tuple[list[str], list[str]]:
    """(one line per table, the problems): tables gone, columns dropped, rows lost or added, values changed."""
    lines, problems = [], []
    for name, was in before.items():
        now = after.get(name, Table((), 0, ""))
        found = []
        if not now.columns:
            found.append(f"table gone ({was.rows} rows)")
        else:
            if dropped := [c for c in was.columns if c not in now.columns]:
                found.append(f"column(s) dropped: {', '.join(dropped)}")
            if now.rows != was.rows:
                found.append(f"{was.rows} → {now.rows} rows")
            elif now.checksum != was.checksum and not dropped:
                found.append("values changed (checksum differs)")
        lines.append(f"{name:<28} {was.rows:>7} rows  {'; '.join(found) or 'unchanged'}")
        problems += [f"{name}: {f}" for f in found]
    return lines, problems
