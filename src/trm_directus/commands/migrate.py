"""`migrate`: apply pending db-init files of a phase, each in one transaction with its ledger row."""

from __future__ import annotations

import argparse

from .. import console
from ..dbinit.runner import describe_target
from . import _db_args


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("migrate", help="apply pending db-init SQL files (validates the ledger first)")
    _db_args.add(p)
    p.add_argument(
        "--phase", choices=("pre", "post", "all"), default="pre", help="pre (before schema apply, default), post, or all"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would run; write nothing")
    return p


def run(args: argparse.Namespace) -> int:
    runner = _db_args.runner(args)
    label = f"db-init {args.phase} on {describe_target(runner.dsn)}"
    if args.dry_run:
        result = runner.migrate(args.phase, dry_run=True)
        console.out(f"dry run: {label}")
        for f in result.would_run:
            console.out(f"  would apply {f.phase}/{f.name}")
        console.out(f"{len(result.would_run)} file(s) would be applied, {result.skipped} already applied; nothing was written")
        return 0
    with console.step(label):
        result = runner.migrate(args.phase)
    total = sum(d for _, d in result.applied)
    console.out(
        f"db-init {args.phase}: {len(result.applied)} applied ({console.fmt_seconds(total)}), {result.skipped} already applied"
    )
    return 0
