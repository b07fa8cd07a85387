"""`rules-import`: validate an event's rules file (formulas, radius defaults, maximum times), then load it idempotently."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from ..rules import load as rules_load
from ..rules import rules_file as rules
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("rules-import", help="load an event's penalty rules (YAML) into a running Directus")
    p.add_argument("file", type=Path, help="rules file, e.g. seeds/rally-albania-2026-rules.yaml")
    p.add_argument("--event", required=True, metavar="SLUG", help="the event's slug")
    p.add_argument("--org", metavar="SLUG", help="the organisation's slug, when several have an event with this slug")
    _target.add(p, snapshot=False)
    p.add_argument("--dry-run", action="store_true", help="validate and show what would change; write nothing")
    return p


def run(args: argparse.Namespace) -> int:
    doc = rules.load(args.file, event=args.event)
    placeholders = sum(len(r.rows) for r in doc.rules if r.values["placeholder"])
    console.info(f"{args.file}: valid ({len(doc.rules)} rule(s), {placeholders} placeholder row(s))")
    api = _target.client(args)
    report = rules_load.import_rules(api, doc, args.event, org=args.org, dry_run=args.dry_run)
    console.out(f"rules {args.file.name} -> {args.event} at {api.url}{' (dry run: nothing written)' if args.dry_run else ''}")
    console.out(report.render().replace("this seed", "these rules"))
    if placeholders:
        console.out(f"{placeholders} formula row(s) are PLACEHOLDER values: replace them with the Supplementary Regulation's")
    return 0
