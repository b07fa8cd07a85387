"""`drift`: the CI drift gate on a throw-away stack built from the committed artifacts."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths
from ..errors import EXIT_DRIFT, EXIT_OK
from ..gates import drift


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("drift", help="prove the committed artifacts rebuild the committed schema (exit 2 on drift)")
    p.add_argument("--snapshot", type=Path, help="snapshot (default: snapshots/schema.yaml)")
    p.add_argument("--db-init", type=Path, help="db-init directory (default: db-init)")
    p.add_argument("--report", type=Path, help="Markdown report (default: reports/drift.md)")
    return p


def run(args: argparse.Namespace) -> int:
    root = paths.repo_root()
    report = drift.gate(args.snapshot or root / "snapshots" / "schema.yaml", args.db_init or root / "db-init", root=root)
    console.out(report.render_text())
    drift.write_report(report, args.report or root / "reports" / "drift.md")
    return EXIT_OK if report.clean else EXIT_DRIFT
