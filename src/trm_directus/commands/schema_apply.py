"""`schema-apply`: boot step 3, the guarded apply of the committed snapshot through Directus's CLI."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import paths
from ..artifacts import sync
from ..db import settings as db
from ..schema import apply


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "schema-apply", help="boot step 3: apply the committed snapshot (refusing destructive changes), then snapshots/ui.yaml"
    )
    p.add_argument("--dsn", help="PostgreSQL URL (default: from DB_* variables)")
    p.add_argument("--snapshot", type=Path, help="snapshot file (default: SNAPSHOT_PATH or snapshots/schema.yaml)")
    p.add_argument(
        "--boot",
        action="store_true",
        help="boot mode: settings from the environment (SNAPSHOT_PATH, "
        f"{apply.ALLOW_DESTRUCTIVE}, {apply.FORCE_FULL}, TRM_DB_INIT_DIR)",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would change; apply nothing")
    p.add_argument(
        "--allow-destructive",
        metavar="TOKEN",
        help=f"allow this snapshot's destructive changes once: the token printed in the refusal (as {apply.ALLOW_DESTRUCTIVE})",
    )
    p.add_argument("--full", action="store_true", help="always ask Directus, even when nothing changed since the last apply")
    return p


def run(args: argparse.Namespace) -> int:
    env = os.environ
    path = args.snapshot or Path(env.get("SNAPSHOT_PATH") or paths.repo_root() / "snapshots" / "schema.yaml")
    dsn = db.resolve_dsn(args.dsn)
    db.wait_for(dsn, db.timeout_from_env()).close()
    db_init = Path(env.get("TRM_DB_INIT_DIR") or paths.repo_root() / "db-init")
    apply.guarded_apply(
        dsn,
        path,
        allow=args.allow_destructive or env.get(apply.ALLOW_DESTRUCTIVE),
        allow_setting="--allow-destructive" if args.allow_destructive else apply.ALLOW_DESTRUCTIVE,
        dry_run=args.dry_run,
        full=args.full or apply.truthy(env.get(apply.FORCE_FULL)),
        db_init_dir=db_init if db_init.is_dir() else None,
    )
    # Right after the schema they refer to: list layouts, dashboards (snapshots/ui.yaml).
    sync.boot_apply(dsn, path, dry_run=args.dry_run)
    return 0
