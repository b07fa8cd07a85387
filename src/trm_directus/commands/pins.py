"""`pins`: check that every place that depends on the Directus version follows the one pin."""

from __future__ import annotations

import argparse

from .. import console, paths, pins
from ..errors import EXIT_DRIFT
from ..schema import pin_check


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser("pins", help="check the Directus version pin against the native package and the snapshot")


def run(args: argparse.Namespace) -> int:
    root = paths.repo_root()
    version = pins.directus_version(root)
    problems = pin_check.check(root)
    for p in problems:
        console.out(f"  {p}")
    if problems:
        console.out(f"version pins disagree ({len(problems)}): change them together (docs/how-to/upgrade-directus.md)")
        return EXIT_DRIFT
    console.out(f"Directus {version}: Dockerfile, native package, lockfile and snapshot agree")
    return 0
