"""`status`: every db-init file with its state (applied / pending / changed / missing); writes nothing."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from .. import console
from ..dbinit.runner import describe_target
from . import _db_args


def _utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("status", help="show every db-init file and its state; read-only")
    _db_args.add(p)
    return p


def run(args: argparse.Namespace) -> int:
    runner = _db_args.runner(args)
    plan = runner.plan()
    console.out(f"db-init status of {describe_target(runner.dsn)}")
    if not plan.ledger_exists:
        console.out("  (no ledger yet: nothing has been applied)")
    console.out(f"  {'phase':<5}  {'file':<40}  {'state':<8}  {'applied at (UTC)':<19}  checksum")
    for f in plan.files:
        row = plan.applied.get(f.name)
        when = _utc(row.applied_at) if row else "-"
        console.out(f"  {f.phase:<5}  {f.name:<40}  {plan.state_of(f):<8}  {when:<19}  {f.checksum[:12]}")
    for row in plan.missing:
        console.out(f"  {row.phase:<5}  {row.file_name:<40}  {'missing':<8}  {_utc(row.applied_at)}  {row.checksum[:12]}")
    counts = {s: 0 for s in ("applied", "pending", "changed")}
    for f in plan.files:
        counts[plan.state_of(f)] += 1
    console.out(
        f"{counts['applied']} applied, {counts['pending']} pending, {counts['changed']} changed, "
        f"{len(plan.missing)} missing on disk, {len(plan.out_of_order)} out of order"
    )
    if counts["changed"] or plan.missing or plan.out_of_order:
        console.out("problems found: `migrate` will refuse to run until they are fixed (see its message)")
        return 1
    return 0
