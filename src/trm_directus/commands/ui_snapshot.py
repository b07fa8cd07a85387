"""`ui-snapshot`: capture the dev stack's list layouts, dashboards and panels into snapshots/ui.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

import psycopg

from .. import console
from ..artifacts import document, registry, sync
from ..artifacts.kind import KindDiff
from . import _artifacts

NAME = "ui"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("ui-snapshot", help="capture default list layouts and dashboards into snapshots/ui.yaml")
    p.add_argument("--out", type=Path, help="where to write it (default: snapshots/ui.yaml)")
    _artifacts.add_dsn(p)
    return p


def run(args: argparse.Namespace) -> int:
    out = args.out or _artifacts.default_file(NAME)
    kinds = registry.kinds(NAME)
    previous = document.read(out, NAME, kinds) if out.exists() else None
    with console.step(f"capturing {NAME} artifacts"), psycopg.connect(_artifacts.dsn(args), autocommit=True) as conn:
        doc = sync.capture(conn, NAME)
    document.write(doc, out)
    console.out(f"wrote {out}: {doc.count()} (Directus {doc.directus})")
    if previous is not None:
        changes: list[str] = []
        for kind in kinds:
            before = {kind.key(i): i for i in previous.section(kind)}
            d: KindDiff = kind.diff(before, {}, doc.section(kind))
            changes += d.lines(create="added {}", update="changed {}", delete="removed {}")
        console.out(
            "changes since the previous capture:\n" + "\n".join(changes) if changes else "no changes since the previous capture"
        )
    return 0
