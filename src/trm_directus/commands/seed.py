"""`seed`: validate a seed file, then load it through Directus's REST API (idempotent, batched)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths
from ..seed import loader, verify
from ..seed import seed_file as document
from . import _target

DEFAULT = Path("seeds") / "rally-albania-2026.yaml"


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("seed", help="load a seed file (default: Rally Albania 2026) into a running Directus")
    p.add_argument("file", nargs="?", type=Path, help=f"seed file (default: {DEFAULT})")
    _target.add(p, snapshot=False)
    p.add_argument("--dry-run", action="store_true", help="validate and show what would change; write nothing")
    p.add_argument("--check", action="store_true", help="only validate the file (no Directus needed)")
    p.add_argument(
        "--verify", action="store_true", help="on a throw-away stack: seed, seed again (zero changes), check counts and relations"
    )
    return p


def run(args: argparse.Namespace) -> int:
    path = args.file or paths.repo_root() / DEFAULT
    doc = document.load(path)
    console.info(f"{path}: valid")
    if args.check:
        return 0
    if args.verify:
        verify.verify(path)
        return 0
    api = _target.client(args)
    report = loader.load(api, doc, dry_run=args.dry_run)
    console.out(f"seed {path.name} -> {api.url}{' (dry run: nothing written)' if args.dry_run else ''}")
    console.out(report.render())
    return 0
