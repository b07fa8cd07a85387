"""Arguments and helpers shared by the system-artifact commands (`ui-snapshot`, `ui-apply`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import pins
from ..errors import ConfigError
from ..stacks import select


def add_dsn(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="PostgreSQL URL of the Directus database (default: DB_* variables, else the dev stack)")


def default_file(name: str) -> Path:
    return pins.repo_root() / "snapshots" / f"{name}.yaml"


def dsn(args: argparse.Namespace) -> str:
    if args.dsn:
        return args.dsn
    if os.environ.get("DB_HOST"):
        from .. import db

        return db.resolve_dsn(None)
    stack = select.dev_stack()
    if stack is None or not stack.running()["postgres"]:
        raise ConfigError("no database to talk to", "start the dev stack (`invoke up`) or pass --dsn postgresql://…")
    return stack.info.dsn
