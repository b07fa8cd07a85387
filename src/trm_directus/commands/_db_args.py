"""Arguments shared by the commands that talk to the database through db-init."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..boot import db_init
from ..db import settings as db
from ..dbinit.runner import Runner


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="PostgreSQL URL (default: built from DB_HOST, DB_PORT, DB_DATABASE, DB_USER, DB_PASSWORD)")
    p.add_argument(
        "--dir", type=Path, default=Path("db-init"), help="db-init directory (default: db-init; post-schema files in its post/)"
    )
    p.add_argument("--timeout", type=float, help="seconds to wait for the database (default: DB_INIT_TIMEOUT_SECONDS or 60)")


def runner(args: argparse.Namespace) -> Runner:
    timeout = args.timeout if args.timeout is not None else db.timeout_from_env()
    return db_init.runner(db.resolve_dsn(args.dsn), args.dir, timeout=timeout)
