"""`access-apply`: make a database hold snapshots/access.yaml (boot does it by itself, guarded the same way)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from . import _artifacts

NAME = "access"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("access-apply", help="apply snapshots/access.yaml to the dev stack (or --dsn); boot does it by itself")
    p.add_argument("--file", type=Path, help="artifact file (default: snapshots/access.yaml)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument(
        "--allow-destructive",
        metavar="TOKEN",
        help="allow deleting the rules the file no longer names, once: the token printed in the refusal",
    )
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    _artifacts.apply(NAME, args, dry_run=args.dry_run, allow=args.allow_destructive)
    if args.dry_run:
        console.out("dry run: nothing was written")
    return 0
