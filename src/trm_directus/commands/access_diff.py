"""`access-diff`: what applying snapshots/access.yaml would change in a database (exit 1 when it differs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from ..artifacts import registry, sync
from ..schema import allowance
from . import _artifacts

NAME = "access"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("access-diff", help="show what applying snapshots/access.yaml would change (exit 1 when it differs)")
    p.add_argument("--file", type=Path, help="artifact file (default: snapshots/access.yaml)")
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    path, plan = _artifacts.apply(NAME, args, dry_run=True)
    gone = sync.guarded_deletions(plan)
    if gone:
        token = allowance.digest(path.read_bytes())[: allowance.TOKEN_CHARS]
        console.out(
            f"{len(gone)} rule(s) would be deleted: a boot refuses that unless "
            f"{registry.ALLOW_ENV[NAME]}={token} is set for one run"
        )
    return 1 if plan.writes(prune=True) else 0
