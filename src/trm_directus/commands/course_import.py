"""`course-import`: OpenRally GPX files → a stage's segments, waypoints, speed zones and route in Directus."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from ..course import exchange
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "course-import",
        help="import OpenRally GPX (one file per stage) into an event's course: validated, idempotent, all or nothing",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="OpenRally GPX file(s), one stage each")
    p.add_argument("--event", required=True, help="event slug (or ORG-SLUG/EVENT-SLUG when several organisations use it)")
    p.add_argument("--stage", help="stage name (one file only; default: the GPX metadata or track name, else the file name)")
    p.add_argument("--dry-run", action="store_true", help="check the files and print the plan (every item); write nothing")
    _target.add(p, snapshot=False)
    return p


def run(args: argparse.Namespace) -> int:
    api = _target.client(args)
    report = exchange.import_files(api, args.files, args.event, stage_name=args.stage, dry_run=args.dry_run)
    console.out(f"course-import -> {api.url} event {report.event}{' (dry run: nothing written)' if args.dry_run else ''}")
    console.out(report.render())
    return 0
