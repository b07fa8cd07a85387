"""`ui-apply`: make a database hold snapshots/ui.yaml (list layouts, dashboards, panels)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from . import _artifacts

NAME = "ui"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("ui-apply", help="apply snapshots/ui.yaml to the dev stack (or --dsn); boot does it by itself")
    p.add_argument("--file", type=Path, help="artifact file (default: snapshots/ui.yaml)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--prune", action="store_true", help="also delete layouts/dashboards/panels the file does not name")
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    _artifacts.apply(NAME, args, prune=args.prune, dry_run=args.dry_run)
    if args.dry_run:
        console.out("dry run: nothing was written")
    return 0
