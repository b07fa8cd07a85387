"""`bootstrap`: boot step 2, Directus's bootstrap — skipped when it provably has nothing to do."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..boot import bootstrap
from ..db import settings as db


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("bootstrap", help="run Directus's bootstrap (system tables, migrations, first admin)")
    p.add_argument("--dsn", help="PostgreSQL URL (default: from DB_* variables)")
    p.add_argument("--force", action="store_true", help="always run it, even when no Directus migration is pending")
    return p


def run(args: argparse.Namespace) -> int:
    migrations = os.environ.get("TRM_DIRECTUS_MIGRATIONS_DIR")
    custom = Path(os.environ.get("MIGRATIONS_PATH", "./migrations")).resolve()
    dsn = db.resolve_dsn(args.dsn)
    db.wait_for(dsn, db.timeout_from_env()).close()
    bootstrap.bootstrap(dsn, migrations_dir=Path(migrations) if migrations else None, custom_dir=custom, force=args.force)
    bootstrap.ensure_project_owner(dsn, os.environ.get("PROJECT_OWNER"))
    return 0
