"""`boot-steps`: boot steps 1-4 (db-init pre, bootstrap, schema apply, db-init post) under one boot lock."""

from __future__ import annotations

import argparse

from ..boot import steps as boot


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "boot-steps",
        help="run boot steps 1-4 (the TRM_CMD_* commands image/entrypoint.sh sets) while holding the boot lock",
    )


def run(args: argparse.Namespace) -> int:
    return boot.run_steps()
