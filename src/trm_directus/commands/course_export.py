"""`course-export`: a stage of an event from Directus back to an OpenRally GPX v1.0.3 file."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from ..course import exchange
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("course-export", help="write a stage's course from Directus as OpenRally GPX v1.0.3 (metric)")
    p.add_argument("--event", required=True, help="event slug (or ORG-SLUG/EVENT-SLUG)")
    p.add_argument("--stage", required=True, help="stage name")
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    _target.add(p, snapshot=False)
    return p


def run(args: argparse.Namespace) -> int:
    api = _target.client(args)
    text, warnings = exchange.export_stage(api, args.event, args.stage)
    for warning in warnings:
        console.warn(f"{args.stage}: {warning}")
    if args.out:
        args.out.write_text(text)
        console.info(f"{args.out}: stage {args.stage!r} of {args.event} ({len(text.encode())} bytes)")
    else:
        console.out(text.rstrip("\n"))
    return 0
