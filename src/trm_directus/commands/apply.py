"""`apply`: apply the committed snapshot to a running instance through its REST API (guarded)."""

from __future__ import annotations

import argparse

from .. import console
from ..errors import SchemaApplyRefused, SnapshotError
from ..schema import diff as diffs
from ..schema import snapshot
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("apply", help="apply the committed snapshot to a running Directus (preview first)")
    _target.add(p)
    p.add_argument("--dry-run", action="store_true", help="show what would change; apply nothing")
    p.add_argument("--allow-destructive", action="store_true", help="allow deleting collections, fields, relations")
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
    if d.destructive and not args.allow_destructive:
        raise SchemaApplyRefused(
            f"refusing: applying {path} would delete {len(d.destructive)} item(s)",
            "pass --allow-destructive after reviewing the list, or capture a current snapshot",
            details="\n".join(f"  {diffs.KIND[c.section]} {c.name}" for c in d.destructive),
        )
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
