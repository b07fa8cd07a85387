"""`repair`: after a deliberate, reviewed edit of an applied file, record its new checksum."""

from __future__ import annotations

import argparse

from .. import console
from . import _db_args


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("repair", help="accept the on-disk content of edited applied files (records the old checksum)")
    _db_args.add(p)
    p.add_argument("files", nargs="*", help="file names to repair (default: every changed file)")
    return p


def run(args: argparse.Namespace) -> int:
    repaired = _db_args.runner(args).repair(args.files)
    for name, old, new in repaired:
        console.out(f"repaired {name}: checksum {old[:12]}… -> {new[:12]}…")
    console.out(f"{len(repaired)} file(s) repaired")
    return 0
