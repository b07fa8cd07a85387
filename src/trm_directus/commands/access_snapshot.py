"""`access-snapshot`: capture the dev stack's roles, policies, access links and permissions into snapshots/access.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths, pins
from ..artifacts import access_table
from ..artifacts import artifact_file as document
from . import _artifacts

NAME = "access"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("access-snapshot", help="capture roles, policies and permissions into snapshots/access.yaml")
    p.add_argument("--out", type=Path, help="where to write it (default: snapshots/access.yaml)")
    p.add_argument(
        "--from-table",
        action="store_true",
        help="write the file from the org role table (artifacts/access_table.py) instead of a database",
    )
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    if args.from_table:
        out = args.out or _artifacts.default_file(NAME)
        doc = access_table.build(paths.repo_root() / "snapshots" / "schema.yaml", pins.directus_version())
        document.write(doc, out)
        console.out(f"wrote {out} from the org role table: {doc.count()}")
        return 0
    return _artifacts.snapshot(NAME, args)
