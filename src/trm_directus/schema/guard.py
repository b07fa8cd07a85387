"""Classify every schema change as safe, destructive or needs-data-check (both apply paths use this module).

Directus applies a field update as `ALTER COLUMN … TYPE <new> USING col::<new>` with the type
derived from the field's Directus `type` (lessons.md): a shorter varchar truncates, float → integer
rounds, timestamp → date drops the time; `is_unique`/`is_indexed` false drops an index; a relation
schema change drops and re-creates the foreign key; a snapshot without `systemFields` drops
Directus's system indexes; a deletion drops the table or column with its data.

- safe: cannot change or lose data (creates, metadata, widenings, new indexes);
- destructive: may lose data or a guarantee, whatever the data is today: refused unless allowed;
- needs-data-check: fine if the data passes a check (no NULLs before NOT NULL, no duplicates before
  UNIQUE, every value converts exactly): `impact.py` counts the offending rows with SQL.
Every change to a field's column (any schema change: Directus re-states the type, the default and
the nullability each time; or its deletion) names that column in `alters`: `impact.py` blocks it
when a database object pins the column (dependents.py), whatever its class.

`classify` is pure (two snapshots and their diff in, findings out); the SQL of each check is
carried as a `Probe` and run by `impact.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import coltypes
from . import diff as diffs
from .coltypes import CHECK, DESTRUCTIVE, SAFE
from .snapshot import KEYS, Snapshot


@dataclass(frozen=True)
class Probe:
    """SQL counting the rows a change affects, one count per effect. In the SQL, `{t}`/`{c}` are the table
    and column, other `{name}`s come from `params` (identifiers, or column types for `{new}`/`{old}`)."""

    sql: str
    effects: tuple[tuple[str, bool], ...]  # per count: (what happens to those rows, whether it makes the apply fail)
    table: str = ""
    column: str = ""
    params: tuple[tuple[str, str], ...] = ()


def probe(sql: str, effect: str, table: str, column: str = "", *, blocks: bool = False, **params: str) -> Probe:
    return Probe(sql, ((effect, blocks),), table, column, tuple(params.items()))


@dataclass(frozen=True)
class Finding:
    kind: str  # collection | field | relation | system field
    name: str
    change: str  # what changes, e.g. "varchar(200) → varchar(5)"
    verdict: str  # safe | destructive | needs-data-check
    reason: str
    probe: Probe | None = None
    alters: tuple[str, str] | None = None  # (table, column) that Directus alters or drops for this change

    def line(self) -> str:
        return f"{self.kind} {self.name}: {self.change}: {self.reason}"


COUNT_ALL = "SELECT count(*) FROM {t}"
COUNT_VALUES = "SELECT count(*) FROM {t} WHERE {c} IS NOT NULL"


def classify(current: Snapshot, target: Snapshot, d: diffs.SchemaDiff) -> list[Finding]:
    """One or more findings for every change in `d` (current → target)."""
    have = {s: diffs.index(current.get(s) or [], s) for s in KEYS}
    want = {s: diffs.index(target.get(s) or [], s) for s in KEYS}
    dropped = {c.key[0] for c in d.changes if c.section == "collections" and c.action == "delete"}
    created = {c.key[0] for c in d.changes if c.section == "collections" and c.action == "create"}
    findings: list[Finding] = []
    with_it = {name: [c for c in d.changes if c.section in ("fields", "relations") and c.key[0] == name] for name in dropped}
    for c in d.changes:
        old, new = have[c.section].get(c.key), want[c.section].get(c.key)
        if c.section != "collections" and c.key[0] in dropped:
            continue  # dropped with its collection: the collection's finding names them and counts the rows
        if c.section == "collections":
            findings.append(_collection(c, old, new, with_it.get(c.key[0], [])))
        elif c.section == "fields":
            findings += _field(c, old, new, new_table=c.key[0] in created)
        elif c.section == "relations":
            findings.append(_relation(c, old, new, created))
        else:
            findings.append(_system_field(c, old, new))
    return findings


def _collection(c: diffs.Change, old: dict | None, new: dict | None, parts: list[diffs.Change]) -> Finding:
    name = c.name
    if c.action == "create":
        return Finding("collection", name, "create", SAFE, "new collection")
    if c.action == "delete":
        if not (old or {}).get("schema"):
            return Finding("collection", name, "delete", DESTRUCTIVE, "removes the folder (it has no table)")
        counts = [(sum(p.section == s for p in parts), w) for s, w in (("fields", "field"), ("relations", "relation"))]
        named = " and ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts if n)
        reason = f"drops the table with its {named}" if named else "drops the table"
        return Finding("collection", name, "delete", DESTRUCTIVE, reason, probe(COUNT_ALL, "would be deleted", name))
    if any(not d.startswith("meta.") for d in c.details):
        return Finding("collection", name, "table settings change", DESTRUCTIVE, "changes the collection's table")
    return Finding("collection", name, "update", SAFE, "metadata only")


def _field(c: diffs.Change, old: dict | None, new: dict | None, *, new_table: bool) -> list[Finding]:
    table, column = c.key
    name = c.name
    if c.action == "create":
        schema = (new or {}).get("schema") or {}
        if (
            schema
            and not new_table
            and schema.get("is_nullable") is False
            and schema.get("default_value") is None
            and not schema.get("is_primary_key")
            and not schema.get("has_auto_increment")
        ):
            probe_ = probe(COUNT_ALL, "exist and would violate NOT NULL", table, blocks=True)
            return [Finding("field", name, "create NOT NULL without default", CHECK, "existing rows get no value", probe_)]
        return [Finding("field", name, "create", SAFE, "new field")]
    if c.action == "delete":
        if not (old or {}).get("schema"):
            return [Finding("field", name, "delete", DESTRUCTIVE, "removes the field (no column)")]
        counted = probe(COUNT_VALUES, "hold a value that would be deleted", table, column)
        return [Finding("field", name, "delete", DESTRUCTIVE, "drops the column", counted, (table, column))]
    assert old is not None and new is not None
    if not any(d.startswith(("schema.", "schema:", "type:")) for d in c.details):
        return [Finding("field", name, "update", SAFE, "metadata only")]
    altered = (table, column) if old.get("schema") else None
    return [replace(f, alters=altered) for f in _field_update(table, column, old, new)]


def _field_update(table: str, column: str, old: dict, new: dict) -> list[Finding]:
    name = f"{table}.{column}"
    a, b = old.get("schema") or {}, new.get("schema") or {}
    if old.get("type") != new.get("type") and "alias" in (old.get("type"), new.get("type")):
        counted = probe(COUNT_VALUES, "hold a value that would be deleted", table, column) if a else None
        change = f"type {old.get('type')} → {new.get('type')}"
        return [Finding("field", name, change, DESTRUCTIVE, "Directus deletes and re-creates the field", counted)]
    if not a or not b:
        return [Finding("field", name, "schema change", DESTRUCTIVE, "the column appears or disappears")]
    out: list[Finding] = []
    was, becomes = coltypes.of_column(a), coltypes.of_field(new)
    conv = coltypes.conversion(was, becomes)
    if conv is not None:
        counted = Probe(conv.sql, conv.effects, table, column, (("new", str(becomes)), ("old", str(was)))) if conv.sql else None
        out.append(Finding("field", name, f"{was} → {becomes}", conv.verdict, conv.reason, counted))
    flag = lambda key: (bool(a.get(key)), bool(b.get(key)))  # noqa: E731
    if a.get("is_nullable") is not False and b.get("is_nullable") is False and not b.get("is_primary_key"):
        nulls = probe("SELECT count(*) FROM {t} WHERE {c} IS NULL", "are NULL", table, column, blocks=True)
        out.append(Finding("field", name, "nullable → NOT NULL", CHECK, "NULL values make the change fail", nulls))
    if flag("is_unique") == (True, False) and not a.get("is_primary_key"):
        counted = probe(COUNT_VALUES, "lose the uniqueness guarantee", table, column)
        out.append(Finding("field", name, "unique → not unique", DESTRUCTIVE, "drops the unique index", counted))
    if flag("is_unique") == (False, True):
        dups = probe(DUPLICATES, "are duplicates", table, column, blocks=True)
        out.append(Finding("field", name, "not unique → unique", CHECK, "duplicates make the unique index fail", dups))
    if flag("is_indexed") == (True, False):
        out.append(Finding("field", name, "indexed → not indexed", DESTRUCTIVE, "drops the index"))
    for key in ("is_primary_key", "has_auto_increment", "is_generated", "generation_expression"):
        if a.get(key) != b.get(key):
            change = f"{key} {a.get(key)} → {b.get(key)}"
            out.append(Finding("field", name, change, DESTRUCTIVE, "rebuilds the column's key or generation"))
    handled = {"is_nullable", "is_unique", "is_indexed", "is_primary_key", "has_auto_increment", "is_generated"}
    handled |= {"generation_expression", "data_type", "max_length", "numeric_precision", "numeric_scale", "name", "table"}
    safe_keys = {"default_value", "comment", "foreign_key_table", "foreign_key_column", "foreign_key_schema"}
    unknown = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and k not in handled | safe_keys)
    if unknown:
        change = ", ".join(f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in unknown)
        out.append(Finding("field", name, change, DESTRUCTIVE, "a schema change the guard does not know: refused to be safe"))
    if not out:
        changes = [k for k in sorted(safe_keys) if a.get(k) != b.get(k)]
        changes += ["adds an index"] if flag("is_indexed") == (False, True) else []
        changes += ["NOT NULL → nullable"] if a.get("is_nullable") is False and b.get("is_nullable") is not False else []
        changes += ["adds a unique index"] if flag("is_unique") == (False, True) and a.get("is_primary_key") else []
        out.append(Finding("field", name, ", ".join(changes) or "type label", SAFE, "no data changes"))
    return out


DUPLICATES = (
    "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {t} WHERE {c} IS NOT NULL GROUP BY {c}"
    " HAVING count(*) > 1) AS dup"
)
ORPHANS = "SELECT count(*) FROM {t} AS m WHERE m.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {ft} AS o WHERE o.{fc} = m.{c})"


def _relation(c: diffs.Change, old: dict | None, new: dict | None, created: set[str]) -> Finding:
    table, column = c.key
    name = c.name
    if c.action == "create":
        schema = (new or {}).get("schema") or {}
        ft, fc = schema.get("foreign_key_table"), schema.get("foreign_key_column")
        if not (schema and ft and fc) or table in created or ft in created:
            return Finding("relation", name, "create", SAFE, "new relation")
        orphans = probe(ORPHANS, f"reference no {ft} row", table, column, blocks=True, ft=ft, fc=fc)
        return Finding("relation", name, f"create foreign key → {ft}", CHECK, "rows without a match make it fail", orphans)
    if c.action == "delete":
        if not (old or {}).get("schema"):
            return Finding("relation", name, "delete", DESTRUCTIVE, "removes the relation")
        counted = probe(COUNT_VALUES, "lose their foreign-key check", table, column)
        return Finding("relation", name, "delete", DESTRUCTIVE, "drops the foreign key", counted)
    a, b = (old or {}).get("schema") or {}, (new or {}).get("schema") or {}
    if a == b:
        return Finding("relation", name, "update", SAFE, "metadata only")
    changed = [f"{k} {a.get(k)} → {b.get(k)}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
    counted = probe(COUNT_VALUES, "reference through this foreign key", table, column)
    return Finding("relation", name, ", ".join(changed), DESTRUCTIVE, "drops and re-creates the foreign key", counted)


def _system_field(c: diffs.Change, old: dict | None, new: dict | None) -> Finding:
    name = c.name
    was = bool(((old or {}).get("schema") or {}).get("is_indexed"))
    becomes = bool(((new or {}).get("schema") or {}).get("is_indexed")) if new is not None else not was
    if was and not becomes:
        reason = "drops the index" + (
            " (the snapshot lacks this system field: a snapshot without systemFields drops Directus's system indexes)"
            if new is None
            else ""
        )
        return Finding("system field", name, "indexed → not indexed", DESTRUCTIVE, reason)
    return Finding("system field", name, c.action, SAFE, "adds an index" if becomes and not was else "no index change")
