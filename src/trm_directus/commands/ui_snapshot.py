"""`ui-snapshot`: capture the dev stack's list layouts, dashboards and panels into snapshots/ui.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import _artifacts

NAME = "ui"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("ui-snapshot", help="capture default list layouts and dashboards into snapshots/ui.yaml")
    p.add_argument("--out", type=Path, help="where to write it (default: snapshots/ui.yaml)")
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    return _artifacts.snapshot(NAME, args)
