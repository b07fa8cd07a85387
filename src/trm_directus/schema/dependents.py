"""Database objects that pin a column of a Directus-managed table (design rule 9: there must be none).

Directus re-states a column's type on every schema change of its field (`ALTER COLUMN … TYPE …`,
lessons.md), and drops the column when the field is deleted. PostgreSQL refuses both for a column
that a trigger names (in `UPDATE OF` or `WHEN`), that a view or rule reads, that a row-level
policy or a generated column uses: such an object *pins* the column, and the field can no longer
be changed through Directus. PostgreSQL records every one of them in `pg_depend` as a dependency
on the column; what `ALTER COLUMN … TYPE` rebuilds by itself (indexes, constraints, the column's
own default, extended statistics, owned sequences) does not pin it. Anything else does: an object
kind not known here is reported rather than trusted.

Directus-managed tables: the tables of Directus collections and Directus's own `directus_*`.
Used by the schema guard (a change to a pinned column is BLOCKED), the drift and upgrade gates,
and db-init's own assertion in post/109.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import psycopg

PINNED_SQL = r"""
WITH managed AS (
    SELECT c.oid, c.relname
      FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
       AND (c.relname LIKE 'directus\_%' OR c.relname IN (SELECT collection FROM directus_collections))
)
SELECT DISTINCT m.relname, a.attname,
       CASE d.classid
           WHEN 'pg_trigger'::regclass THEN 'trigger'
           WHEN 'pg_rewrite'::regclass THEN 'view or rule'
           WHEN 'pg_policy'::regclass THEN 'policy'
           WHEN 'pg_attrdef'::regclass THEN 'generated column'
           ELSE 'object'
       END,
       CASE d.classid
           WHEN 'pg_trigger'::regclass THEN (SELECT format('trigger %s on %s', tgname, tgrelid::regclass)
                                               FROM pg_trigger WHERE oid = d.objid)
           WHEN 'pg_rewrite'::regclass THEN (SELECT CASE WHEN rulename = '_RETURN' THEN format('view %s', ev_class::regclass)
                                                         ELSE format('rule %s on %s', rulename, ev_class::regclass) END
                                               FROM pg_rewrite WHERE oid = d.objid)
           WHEN 'pg_attrdef'::regclass THEN (SELECT format('generated column %s.%s', m.relname, g.attname)
                                               FROM pg_attrdef ad
                                               JOIN pg_attribute g ON g.attrelid = ad.adrelid AND g.attnum = ad.adnum
                                              WHERE ad.oid = d.objid)
           ELSE pg_describe_object(d.classid, d.objid, d.objsubid)
       END
  FROM pg_depend d
  JOIN managed m ON d.refclassid = 'pg_class'::regclass AND d.refobjid = m.oid
  JOIN pg_attribute a ON a.attrelid = m.oid AND a.attnum = d.refobjsubid
 WHERE d.refobjsubid > 0
   AND d.classid NOT IN ('pg_constraint'::regclass, 'pg_statistic_ext'::regclass)
   AND NOT (d.classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 'I', 'S'))
   AND NOT (d.classid = 'pg_attrdef'::regclass AND (SELECT adnum FROM pg_attrdef WHERE oid = d.objid) = d.refobjsubid)
 ORDER BY 1, 2, 4
"""


@dataclass(frozen=True)
class Pin:
    table: str
    column: str
    kind: str  # trigger | view or rule | policy | generated column | object
    name: str  # e.g. "trigger waypoints_default_radii on waypoints"

    def line(self) -> str:
        return f"{self.table}.{self.column} is pinned by {self.name}"


def pinned(conn: psycopg.Connection) -> list[Pin]:
    """Every (column, object) pair where an object pins a column of a Directus-managed table."""
    if conn.execute("SELECT to_regclass('directus_collections')").fetchone()[0] is None:
        return []  # Directus is not installed yet: it manages nothing
    return [Pin(*row) for row in conn.execute(PINNED_SQL)]


def by_column(pins: list[Pin]) -> dict[tuple[str, str], list[str]]:
    """(table, column) → the names of the objects that pin it."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in pins:
        out[(p.table, p.column)].append(p.name)
    return dict(out)


def render(pins: list[Pin]) -> list[str]:
    """One line per pinned column, naming every object that pins it."""
    return [f"{t}.{c} is pinned by {', '.join(names)}" for (t, c), names in by_column(pins).items()]
