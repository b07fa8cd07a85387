"""Capture a database's system artifacts into a file; plan and apply a file; the boot step.

A plan is one `KindDiff` per kind, in registry order. Applying runs in one transaction: creates
and updates in registry order, then (only where pruning applies) deletions in reverse order.
Rows the file does not name are never deleted at boot unless their kind says so
(`Kind.prune_at_boot`): they are listed as "not in the file, kept". Concurrent appliers (two
containers booting on one database) are serialised by the transaction advisory lock
6076003918789366832 (the bytes of `TRM_ART0`): natural keys are not unique in Directus's tables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg

from .. import console, pins
from ..errors import ArtifactError
from ..schema import allowance
from . import artifact_file as document
from . import registry
from .kind import KindDiff

MSG_UNCHANGED = "nothing to apply"
LOCK = int.from_bytes(b"TRM_ART0", "big")


@dataclass
class Plan:
    name: str
    diffs: list[KindDiff]

    @property
    def empty(self) -> bool:
        return all(d.empty for d in self.diffs)

    def writes(self, *, prune: bool) -> bool:
        return any(d.to_create or d.to_update or (d.to_delete and (prune or d.kind.prune_at_boot)) for d in self.diffs)

    def render(self, *, prune: bool) -> str:
        lines = []
        for d in self.diffs:
            deletes = "delete {}" if prune or d.kind.prune_at_boot else "keep {} (not in the file)"
            lines += d.lines(delete=deletes)
        return "\n".join(lines) or "  (no differences)"

    def summary(self) -> str:
        return "; ".join(d.summary() for d in self.diffs)


def installed_version() -> str:
    return os.environ.get("TRM_DIRECTUS_VERSION") or pins.directus_version()


def capture(conn: psycopg.Connection, name: str) -> document.Document:
    kinds = registry.kinds(name)
    doc = document.Document(name, kinds, installed_version())
    for kind in kinds:
        items, _ = kind.fetch(conn)
        doc.items[kind.section] = sorted(items.values(), key=kind.sort_key)
    return doc


def plan(conn: psycopg.Connection, doc: document.Document) -> Plan:
    diffs = []
    for kind in doc.kinds:
        current, ids = kind.fetch(conn)
        diffs.append(kind.diff(current, ids, doc.section(kind)))
    return Plan(doc.name, diffs)


def check(conn: psycopg.Connection, doc: document.Document) -> None:
    running = installed_version()
    if doc.directus != running:
        raise ArtifactError(
            f"{doc.path} was captured with Directus {doc.directus}, this is Directus {running}",
            f"re-capture it on the pinned version (`python -m trm_directus {doc.name}-snapshot`); panel and layout "
            "options change between Directus versions",
        )
    problems = [p for kind in doc.kinds for p in kind.check(conn, doc.section(kind))]
    if problems:
        raise ArtifactError(
            f"{doc.path}: {len(problems)} item(s) do not fit this database; nothing was applied",
            "capture the file again from a dev stack running the committed schema",
            details="\n".join(f"  {p}" for p in problems),
        )


def guarded_deletions(p: Plan) -> list[str]:
    """What a boot apply would delete from kinds that prune (access rules): one line each."""
    return [f"  {d.kind.singular} {d.kind.label(d.kind.key(i))}" for d in p.diffs if d.kind.prune_at_boot for i in d.to_delete]


def _guard(conn: psycopg.Connection, doc: document.Document, p: Plan, allow: str | None, setting: str) -> None:
    """Refuse deletions of access rules unless `allow` is this file's one-run token (schema/allowance.py)."""
    gone = guarded_deletions(p)
    if not gone:
        return
    digest = allowance.digest(Path(doc.path).read_bytes()) if doc.path else ""
    granted = allowance.resolve(allow, digest, setting=setting, conn=conn)
    if not granted.granted:
        raise ArtifactError(
            f"{doc.path}: {len(gone)} {doc.name} rule(s) in the database are not in the file and would be deleted; "
            "nothing was applied",
            f"if the file is right, {granted.how_to_allow()}; if the database is right, re-capture the file "
            f"(`python -m trm_directus {doc.name}-snapshot`)",
            details="\n".join(gone),
        )
    console.warn(f"{setting} allows deleting {len(gone)} {doc.name} rule(s) of this file, once:\n" + "\n".join(gone))
    granted.consume(conn, gone)


def apply(
    conn: psycopg.Connection,
    doc: document.Document,
    *,
    prune: bool = False,
    dry_run: bool = False,
    allow: str | None = None,
    allow_setting: str = "--allow-destructive",
) -> Plan:
    """Make the database hold what the file says (one transaction); returns the plan it carried out.
    Deleting rows of a pruning kind (access rules) needs `allow`, the file's one-run token."""
    check(conn, doc)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        p = plan(conn, doc)
        if dry_run or not p.writes(prune=prune):
            return p
        _guard(conn, doc, p, allow, allow_setting)
        for d in p.diffs:
            d.kind.apply_writes(conn, d)
        for d in reversed(p.diffs):
            if prune or d.kind.prune_at_boot:
                d.kind.apply_deletes(conn, d)
    return p


def boot_path(name: str, env: dict[str, str] | os._Environ, snapshot_path: Path) -> Path:
    override = env.get(registry.PATH_ENV[name])
    return Path(override) if override else registry.default_path(name, snapshot_path.parent)


def boot_apply(dsn: str, snapshot_path: Path, *, dry_run: bool = False) -> dict[str, Plan | None]:
    """Boot step 3, after the schema: apply every registered artifact file that exists."""
    done: dict[str, Plan | None] = {}
    for name, kinds in registry.FILES.items():
        path = boot_path(name, os.environ, snapshot_path)
        doc = document.read(path, name, kinds)
        if doc is None:
            console.info(f"{name} artifacts: no {path.name} next to the schema snapshot ({path}): skipped")
            done[name] = None
            continue
        setting = registry.ALLOW_ENV.get(name, "")
        with psycopg.connect(dsn, autocommit=True) as conn:
            p = apply(conn, doc, dry_run=dry_run, allow=os.environ.get(setting) if setting else None, allow_setting=setting)
        if not p.writes(prune=False):
            console.info(f"{name} artifacts: {MSG_UNCHANGED} from {path.name} ({p.summary()})")
        else:
            verb = "would apply" if dry_run else "applied"
            console.info(f"{name} artifacts: {verb} {path.name} ({p.summary()}):\n{p.render(prune=False)}")
            if not dry_run and os.environ.get("CACHE_ENABLED", "").lower() == "true":
                # Written past Directus: a data cache kept in Redis may serve older GETs until CACHE_TTL.
                console.warn("CACHE_ENABLED=true: clear Directus's cache (POST /utils/cache/clear) to see the change at once")
        done[name] = p
    return done


def differences(conn: psycopg.Connection, path: Path, name: str) -> list[str]:
    """The drift gate's round trip: what the database holds vs the committed file (empty when equal),
    including a file that is equal in content but not in canonical form (re-capture it)."""
    doc = document.read(path, name, registry.kinds(name))
    if doc is None:
        return []
    found = []
    for d in plan(conn, doc).diffs:
        found += d.lines(create="missing in database: {}", update="differs: {}", delete="only in database: {}")
    if not found and document.render(capture(conn, name)) != path.read_text(encoding="utf-8-sig"):
        found.append(f"{path.name} is not in canonical form: re-capture it with `python -m trm_directus {name}-snapshot`")
    return [f"{path.name}: {line.strip()}" for line in found]
