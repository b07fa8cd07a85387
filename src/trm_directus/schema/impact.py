"""The guard's data checks: count, with SQL against the database, the rows each classified change affects.

A change's status combines its class (guard.py) with the counts:
- safe: applied;
- checked: a needs-data-check change whose check found no offending row: applied;
- destructive: a destructive change, or a needs-data-check change that would alter rows (or could
  not be checked): refused unless the snapshot's one-run allowance is given (allowance.py);
- blocked: the database would reject the change (NULLs before NOT NULL, duplicates before UNIQUE,
  values that do not convert; or the column is pinned by a trigger, view, rule or policy:
  dependents.py): refused whatever is allowed — the data or the pinning object has to be fixed first.
The checks run in one transaction that is rolled back, each under a statement timeout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from ..errors import SchemaApplyRefused
from . import dependents
from .guard import CHECK, DESTRUCTIVE, SAFE, Finding

STATEMENT_TIMEOUT = "120s"
LABELS = {"blocked": "BLOCKED", "destructive": "DESTRUCTIVE", "checked": "checked", "safe": "safe"}

# Per row: 0 converts exactly, 1 converts but the value changes, 2 does not convert (the ALTER would fail).
CONVERT_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.trm_convert(v anyelement, new_type text, old_type text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE back text;
BEGIN
  BEGIN
    EXECUTE format('SELECT ($1::%s)::text', new_type) USING v;
  EXCEPTION WHEN others THEN RETURN 2;
  END;
  BEGIN
    EXECUTE format('SELECT (($1::%s)::%s)::text', new_type, old_type) INTO back USING v;
  EXCEPTION WHEN others THEN RETURN 1;
  END;
  RETURN CASE WHEN back IS DISTINCT FROM v::text THEN 1 ELSE 0 END;
END $$
"""


def rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


@dataclass
class Assessed:
    finding: Finding
    counts: list[int] | None = None  # one per probe effect; None when not counted
    error: str = ""
    pinned_by: list[str] = field(default_factory=list)  # database objects that pin the altered column

    @property
    def status(self) -> str:
        f = self.finding
        if self.pinned_by:
            return "blocked"
        if f.verdict == SAFE:
            return "safe"
        effects = f.probe.effects if f.probe is not None else ()
        if self.counts is not None and any(n and blocks for n, (_, blocks) in zip(self.counts, effects, strict=True)):
            return "blocked"
        if f.verdict == DESTRUCTIVE or self.counts is None or any(self.counts):
            return "destructive"
        return "checked"

    def describe(self) -> str:
        text = self.finding.line()
        probe = self.finding.probe
        if self.pinned_by:
            text += f": the column is pinned by {', '.join(self.pinned_by)} ({PINNED_WHY})"
        if probe is None:
            return text
        if self.counts is None:
            return f"{text} (rows not counted: {self.error or 'no database access'})"
        effects = [f"{rows(n)} {effect}" for n, (effect, _) in zip(self.counts, probe.effects, strict=True)]
        return f"{text}: {'; '.join(effects)}"


PINNED_WHY = "PostgreSQL refuses to alter or drop a column that a trigger, view, rule or policy names"


@dataclass
class GuardReport:
    items: list[Assessed] = field(default_factory=list)

    def with_status(self, status: str) -> list[Assessed]:
        return [a for a in self.items if a.status == status]

    @property
    def blocked(self) -> list[Assessed]:
        return self.with_status("blocked")

    @property
    def destructive(self) -> list[Assessed]:
        return self.with_status("destructive")

    def summary(self) -> str:
        counts = Counter(a.status for a in self.items)
        return ", ".join(f"{counts[s]} {s}" for s in ("safe", "checked", "destructive", "blocked"))

    def render(self) -> str:
        lines = [f"schema guard: {len(self.items)} change(s): {self.summary()}"]
        for status in ("blocked", "destructive", "checked"):
            lines += [f"  {LABELS[status]:<11} {a.describe()}" for a in self.with_status(status)]
        safe = Counter(f"{a.finding.kind}: {a.finding.reason}" for a in self.with_status("safe"))
        if safe:
            lines.append(f"  {'safe':<11} " + "; ".join(f"{n} × {what}" for what, n in sorted(safe.items())))
        return "\n".join(lines)

    def refuse_if_needed(self, path: Path, *, allowed: bool, how_to_allow: str) -> None:
        """Raise SchemaApplyRefused for blocked changes, and for destructive ones unless allowed."""
        if self.blocked:
            pinned = sum(1 for a in self.blocked if a.pinned_by)
            causes = {"on the data in the database": len(self.blocked) - pinned, "on a column a database object pins": pinned}
            found = {cause: n for cause, n in causes.items() if n}
            why = next(iter(found)) if len(found) == 1 else "(" + ", ".join(f"{n} {c}" for c, n in found.items()) + ")"
            fixes = ["fix the rows counted above"] if len(self.blocked) > pinned else []
            if pinned:
                fixes.append(
                    "re-create each pinning object without naming the column (a trigger tests `NEW.x IS DISTINCT FROM "
                    "OLD.x` in its function instead; db-init/README.md) in a db-init file that a boot applies before "
                    "this snapshot (an earlier release, or a pre-schema file)"
                )
            raise SchemaApplyRefused(
                f"refusing to apply {path}: {len(self.blocked)} change(s) would fail {why}",
                f"{'; '.join(fixes)} (or change the snapshot), then apply again; no setting overrides this, "
                "the database itself would reject the change",
                details="\n".join(f"  {a.describe()}" for a in self.blocked + self.destructive),
            )
        if self.destructive and not allowed:
            raise SchemaApplyRefused(
                f"refusing to apply {path}: {len(self.destructive)} destructive change(s) would lose data or a guarantee",
                "if the snapshot is stale (an old image), rebuild from a current snapshot; if these changes are "
                f"intended and reviewed, {how_to_allow}",
                details="\n".join(f"  {a.describe()}" for a in self.destructive),
            )


def assess(findings: list[Finding], conn: psycopg.Connection | None) -> GuardReport:
    """Count the affected rows of every finding with a probe (nothing is written: the transaction rolls back)."""
    report = GuardReport([Assessed(f) for f in findings])
    if conn is None:
        return report
    pins = dependents.by_column(dependents.pinned(conn))
    for a in report.items:
        a.pinned_by = pins.get(a.finding.alters, []) if a.finding.alters else []
    probed = [a for a in report.items if a.finding.probe is not None and a.finding.verdict in (DESTRUCTIVE, CHECK)]
    if not probed:
        return report
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        conn.execute(CONVERT_FUNCTION)
        for a in probed:
            try:
                with conn.transaction():
                    row = conn.execute(_query(a.finding)).fetchone()
                a.counts = [int(n or 0) for n in row]
            except psycopg.Error as exc:
                a.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return report


def _query(f: Finding) -> sql.Composed:
    probe = f.probe
    assert probe is not None
    names = {"t": sql.Identifier(probe.table), "c": sql.Identifier(probe.column or "?")}
    for key, value in probe.params:
        names[key] = sql.Literal(value) if key in ("new", "old") else sql.Identifier(value)
    return sql.SQL(probe.sql).format(**names)
