"""The db-init ledger (`trm_db_init.ledger`: one row per applied file, with its checksum) and the plan it
gives against the files on disk: pending, changed, missing, out of order. Reading it writes nothing.

The ledger lives in its own schema, outside Directus's search path, so it never shows up as a "ghost"
collection (docs/reference/lessons.md, "Snapshots")."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ..errors import (
    ChecksumMismatch,
    MissingMigration,
    OutOfOrderMigration,
)
from .discovery import PHASES, MigrationFile

LEDGER_SCHEMA = "trm_db_init"
LEDGER = f"{LEDGER_SCHEMA}.ledger"

LEDGER_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA};
CREATE TABLE IF NOT EXISTS {LEDGER} (
    file_name         text PRIMARY KEY,
    phase             text NOT NULL CHECK (phase IN ('pre', 'post')),
    number            integer NOT NULL UNIQUE,
    checksum          text NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT now(),
    duration_ms       integer NOT NULL,
    applied_by        text NOT NULL,
    runner_version    text NOT NULL,
    repaired_at       timestamptz,
    previous_checksum text
);
COMMENT ON TABLE {LEDGER} IS 'db-init ledger of trm-directus: one row per applied NNN_name.sql file';
"""


@dataclass(frozen=True)
class LedgerRow:
    file_name: str
    phase: str
    number: int
    checksum: str
    applied_at: object
    duration_ms: int
    applied_by: str


@dataclass
class Plan:
    """What the ledger says against what the disk holds. Computing it writes nothing."""

    files: list[MigrationFile]
    applied: dict[str, LedgerRow]
    ledger_exists: bool

    @property
    def pending(self) -> list[MigrationFile]:
        return [f for f in self.files if f.name not in self.applied]

    @property
    def changed(self) -> list[tuple[MigrationFile, LedgerRow]]:
        return [
            (f, self.applied[f.name])
            for f in self.files
            if f.name in self.applied and self.applied[f.name].checksum != f.checksum
        ]

    @property
    def missing(self) -> list[LedgerRow]:
        on_disk = {f.name for f in self.files}
        return [row for name, row in sorted(self.applied.items()) if name not in on_disk]

    @property
    def out_of_order(self) -> list[tuple[MigrationFile, LedgerRow]]:
        result = []
        for phase in PHASES:
            done = [row for row in self.applied.values() if row.phase == phase]
            if not done:
                continue
            highest = max(done, key=lambda r: r.number)
            result += [(f, highest) for f in self.pending if f.phase == phase and f.number < highest.number]
        return result

    def state_of(self, f: MigrationFile) -> str:
        row = self.applied.get(f.name)
        if row is None:
            return "pending"
        return "applied" if row.checksum == f.checksum else "changed"


def read_ledger(conn: psycopg.Connection) -> tuple[bool, dict[str, LedgerRow]]:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (LEDGER,)).fetchone()[0]
    if not exists:
        return False, {}
    rows = conn.execute(
        f"SELECT file_name, phase, number, checksum, applied_at, duration_ms, applied_by FROM {LEDGER}"
    ).fetchall()
    return True, {r[0]: LedgerRow(*r) for r in rows}


def plan(conn: psycopg.Connection, files: list[MigrationFile]) -> Plan:
    exists, applied = read_ledger(conn)
    return Plan(files=files, applied=applied, ledger_exists=exists)


def validate(p: Plan) -> None:
    """Refuse edited applied files, files missing on disk, and out-of-order pending files."""
    if p.changed:
        raise ChecksumMismatch(
            [(f.name, row.checksum, f.checksum) for f, row in p.changed],
            "revert the file(s) to their applied content (git checkout), or, after a deliberate and "
            "reviewed edit, record the new content with `python -m trm_directus repair <file>`; "
            "put new changes in a new NNN_name.sql file",
        )
    if p.missing:
        names = ", ".join(r.file_name for r in p.missing)
        raise MissingMigration(
            f"{len(p.missing)} applied db-init file(s) are missing on disk: {names}",
            "restore them from git history: applied files are never deleted or renamed",
        )
    if p.out_of_order:
        lines = [f"  {f.phase}/{f.name} is below the highest applied {row.file_name}" for f, row in p.out_of_order]
        raise OutOfOrderMigration(
            f"{len(p.out_of_order)} pending db-init file(s) are numbered below an applied file",
            "renumber the new file(s) above the highest applied number of their phase",
            details="\n".join(lines),
        )
