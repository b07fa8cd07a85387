"""`apply`: apply the committed snapshot to a running instance through its REST API (guarded)."""

from __future__ import annotations

import argparse
import contextlib

from .. import console
from ..errors import SchemaApplyRefused, SnapshotError
from ..schema import allowance, guard, impact, snapshot
from ..schema import diff as diffs
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("apply", help="apply the committed snapshot to a running Directus (preview first)")
    _target.add(p)
    p.add_argument("--dsn", help="its database, to count the rows each change affects (default: the dev stack's)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; apply nothing")
    p.add_argument(
        "--allow-destructive", metavar="TOKEN", help="allow this snapshot's destructive changes once (token from the refusal)"
    )
    return p


def run(args: argparse.Namespace) -> int:
    path = _target.snapshot_path(args)
    committed = snapshot.read(path)
    if committed is None:
        console.out(f"{path} is absent or blank: nothing to apply")
        return 0
    api = _target.client(args)
    live = _target.live_snapshot(api)
    if str(live.get("directus")) != str(committed.get("directus")):
        raise SchemaApplyRefused(
            f"{path} was captured with Directus {committed.get('directus')}, {api.url} runs Directus {live.get('directus')}",
            "re-capture the snapshot on the running version",
        )
    d = diffs.compute(live, committed)
    console.out(f"{path} -> {api.url}:")
    console.out(d.render_text())
    if d.empty:
        return 0
    findings = guard.classify(live, committed, d)
    # The database counts the affected rows and knows which columns a trigger, view or rule pins.
    needed = any((f.probe is not None and f.verdict != guard.SAFE) or f.alters for f in findings)
    with _target.database(args) if needed else contextlib.nullcontext() as conn:
        report = impact.assess(findings, conn)
        console.out(report.render())
        permit = allowance.resolve(
            args.allow_destructive, allowance.digest(path.read_bytes()), setting="--allow-destructive", conn=conn
        )
        report.refuse_if_needed(path, allowed=permit.granted, how_to_allow=permit.how_to_allow())
        if args.dry_run:
            console.out("dry run: nothing was applied")
            return 0
        with console.step(f"applying {path} through {api.url}/schema/apply"):
            plan = api.schema_diff(committed)
            if plan:
                api.schema_apply(without_owned(plan, _target.owned_tables()))
        left = diffs.compute(_target.live_snapshot(api), committed)
        if not left.empty:
            raise SnapshotError(
                f"after applying, {api.url} still differs from {path}", "see the differences below", details=left.render_text()
            )
        if report.destructive:
            permit.consume(conn, [a.describe() for a in report.destructive])
    console.out(f"applied: {d.summary()}")
    return 0


def without_owned(plan: dict, owned: set[str]) -> dict:
    """Directus's diff without entries for db-init-owned tables (it would drop them as ghost collections)."""
    diff = plan.get("diff", {})
    kept = {
        section: [
            e for e in diff.get(section, []) if e.get("collection") not in owned and e.get("related_collection") not in owned
        ]
        for section in diff
    }
    return {**plan, "diff": kept}
