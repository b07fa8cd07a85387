"""`extensions build|check`: build the TypeScript extensions as native stacks do at boot; type-check and unit-test them."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths
from ..directus import extensions


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("extensions", help="build the Directus extensions in extensions/ (tsc + SDK bundle)")
    p.add_argument("verb", choices=["build", "check"], help="build: tsc + SDK bundle; check: tsc + vitest")
    p.add_argument("--out", type=Path, help="also place the built extensions here (an EXTENSIONS_PATH)")
    return p


def run(args: argparse.Namespace) -> int:
    root = paths.repo_root() / "extensions"
    if args.verb == "check":
        for ext in extensions.discover(root):
            tested = extensions.check(ext)
            console.out(f"{ext.name}: type-check passed" + (", unit tests passed" if tested else " (no unit tests)"))
        return 0
    for ext in extensions.discover(root):
        console.out(f"{ext.name}: {extensions.build(ext)}")
    if args.out:
        console.out(f"installed into {args.out}: {', '.join(extensions.install_all(root, args.out))}")
    return 0
