"""Boot step 3 (and `invoke apply`): apply the committed snapshot, refusing what would lose data.

Decisions are made from a diff computed here between the database's current snapshot and the
committed one, never from the Directus CLI's exit code (lessons.md):
- absent or blank snapshot: skip, saying so;
- snapshot of another Directus version: refuse, naming both;
- every change classified (guard.py: safe / destructive / needs-data-check) and its affected rows
  counted with SQL (impact.py); changes the database would reject are refused, destructive ones are
  refused unless the snapshot's one-run token is given (allowance.py: SCHEMA_APPLY_ALLOW_DESTRUCTIVE);
- otherwise apply with Directus's CLI, then check in the database that the result holds.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from .. import console, pins
from ..directus import cli as directus_cli
from ..errors import SchemaApplyRefused, SnapshotError
from . import allowance, guard, impact, snapshot, state
from . import diff as diffs

ALLOW_DESTRUCTIVE = "SCHEMA_APPLY_ALLOW_DESTRUCTIVE"
MSG_MATCHES = "the database already matches the snapshot: no changes to apply"
MSG_UNCHANGED = "schema unchanged since the last verified apply of this snapshot"
FORCE_FULL = "TRM_SCHEMA_APPLY_FULL"


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Outcome:
    action: str  # skipped-absent | skipped-unchanged | no-changes | applied | dry-run
    diff: diffs.SchemaDiff | None = None
    guard: impact.GuardReport | None = None


def installed_version() -> str:
    return os.environ.get("TRM_DIRECTUS_VERSION") or pins.directus_version()


def check_version(target: snapshot.Snapshot, path: Path) -> None:
    running = installed_version()
    if str(target.get("directus")) != running:
        raise SchemaApplyRefused(
            f"{path} was captured with Directus {target.get('directus')}, this is Directus {running}",
            "re-capture the snapshot on the pinned version (`invoke snapshot`), or change the pin in image/Dockerfile "
            "and re-capture; never apply a snapshot across versions",
        )


def current_snapshot(conn: psycopg.Connection, target: snapshot.Snapshot, db_init_dir: Path | None) -> snapshot.Snapshot:
    """The database's snapshot: empty when Directus knows no user schema, else from Directus's CLI."""
    if not state.has_user_schema(conn):
        console.info("the database has no user collections yet: nothing can be deleted")
        return snapshot.empty_like(target)
    with tempfile.TemporaryDirectory(prefix="trm-snapshot-") as tmp:
        out = Path(tmp) / "current.yaml"
        with console.step("reading the database's current schema (directus schema snapshot)"):
            result = directus_cli.run("schema", "snapshot", "--yes", "--format", "yaml", str(out), echo=False)
            directus_cli.require_ok(result, "schema snapshot", must_contain="Snapshot saved")
        data = snapshot.read(out) or snapshot.empty_like(target)
    if db_init_dir:
        data, _ = snapshot.without_tables(data, snapshot.owned_tables(db_init_dir))
    return data


def verify(conn: psycopg.Connection, target: snapshot.Snapshot) -> list[str]:
    """What the snapshot promises but the database lacks after an apply (empty when all is there)."""
    collections = {r[0] for r in conn.execute("SELECT collection FROM directus_collections")}
    fields = {(r[0], r[1]) for r in conn.execute("SELECT collection, field FROM directus_fields")}
    missing = [f"collection {c['collection']}" for c in target["collections"] if c["collection"] not in collections]
    missing += [
        f"field {f['collection']}.{f['field']}"
        for f in target["fields"]
        if f.get("meta") and (f["collection"], f["field"]) not in fields
    ]
    return missing


def guarded_apply(
    dsn: str,
    path: Path,
    *,
    allow: str | None = None,
    allow_setting: str = ALLOW_DESTRUCTIVE,
    dry_run: bool = False,
    full: bool = False,
    db_init_dir: Path | None = None,
) -> Outcome:
    path = Path(path)
    raw = path.read_bytes() if path.exists() else b""
    text = raw.decode("utf-8-sig", errors="replace")
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):  # absent, blank or comments only
        console.info(f"no schema snapshot to apply ({path} is {'blank' if path.exists() else 'absent'}): skipped")
        return Outcome("skipped-absent")
    digest = state.snapshot_digest(text, installed_version())
    with psycopg.connect(dsn, autocommit=True) as conn:
        installed = conn.execute("SELECT to_regclass('directus_collections')").fetchone()[0] is not None
        # Before parsing (a second on a big snapshot): the digest covers these very bytes and the running
        # Directus version, so a recorded match was parsed, version-checked and applied before.
        if installed and not (full or dry_run) and state.recorded(conn) == (digest, state.fingerprint(conn)):
            console.info(
                f"{MSG_UNCHANGED} (same snapshot, Directus version and database fingerprint): skipped "
                f"(set {FORCE_FULL}=true to re-check with Directus)"
            )
            return Outcome("skipped-unchanged")
        target = snapshot.read(path)
        if target is None:
            console.info(f"no schema snapshot to apply ({path} is {'blank' if path.exists() else 'absent'}): skipped")
            return Outcome("skipped-absent")
        check_version(target, path)
        if not installed:
            raise SnapshotError(
                "Directus is not installed on this database",
                "run the bootstrap step first (boot order: db-init → bootstrap → schema apply)",
            )
        current = current_snapshot(conn, target, db_init_dir)
        d = diffs.compute(current, target)
        if d.empty:
            console.info(f"{MSG_MATCHES} ({path})")
            if not dry_run:
                state.record(conn, digest)
            return Outcome("no-changes", d)
        console.out(f"schema changes from {path}:\n{d.render_text()}")
        report = impact.assess(guard.classify(current, target, d), conn)
        console.out(report.render())
        permit = allowance.resolve(allow, allowance.digest(raw), setting=allow_setting, conn=conn)
        report.refuse_if_needed(path, allowed=permit.granted, how_to_allow=permit.how_to_allow())
        if report.destructive:
            console.warn(
                f"{permit.setting} allows snapshot {permit.token}: applying {len(report.destructive)} destructive change(s)"
            )
        if dry_run:
            console.out("dry run: nothing was applied")
            return Outcome("dry-run", d, report)
        state.forget(conn)
        owned = sorted(snapshot.owned_tables(db_init_dir)) if db_init_dir else []
        # Directus computes its own diff: keep db-init-owned tables out of it (ghost collections).
        ignore = ["--ignoreRules", ",".join(owned)] if owned else []
        with console.step(f"applying {path} ({d.summary()})"):
            result = directus_cli.run("schema", "apply", "--yes", *ignore, str(path))
            directus_cli.require_ok(result, "schema apply", must_contain="Snapshot applied successfully")
        missing = verify(conn, target)
        if missing:
            raise SnapshotError(
                f"after applying {path}, the database still lacks {len(missing)} item(s)",
                "see the Directus output above",
                details="\n".join(f"  {m}" for m in missing[:20]),
            )
        if report.destructive:
            permit.consume(conn, [a.describe() for a in report.destructive])
        state.record(conn, digest)
        return Outcome("applied", d, report)
