"""`upgrade`: the upgrade gate — the working tree's artifacts booted on a database a base ref built and filled."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths
from ..errors import EXIT_DRIFT, EXIT_OK
from ..gates import upgrade as gate


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("upgrade", help="boot the working tree on a database built and seeded by a base ref (exit 2 on findings)")
    p.add_argument("--base", metavar="REF", help="the base commit, tag or branch (default: the merge base of HEAD with main)")
    p.add_argument(
        "--allow-destructive",
        metavar="TOKEN",
        help="the working tree snapshot's one-run token: its destructive changes are applied and the data they change listed",
    )
    p.add_argument("--report", type=Path, help="Markdown report (default: reports/upgrade.md)")
    return p


def run(args: argparse.Namespace) -> int:
    root = paths.repo_root()
    report = gate.gate(root, args.base, allow=args.allow_destructive)
    console.out(report.render_text())
    gate.write_report(report, args.report or root / "reports" / "upgrade.md")
    return EXIT_OK if report.passed else EXIT_DRIFT
