"""`backup [now|list]`: a pgBackRest backup of the dev stack's database (and uploads), or the list of backups."""

from __future__ import annotations

import argparse
import json

from .. import console
from ..backup import repo as pgbr
from ..backup import stack as backups
from ..errors import ConfigError
from ..stacks import select


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("backup", help="back up the dev stack now (pgBackRest), or list its backups")
    p.add_argument("verb", nargs="?", choices=("now", "list"), default="now")
    p.add_argument(
        "--kind", choices=pgbr.KINDS, default="incr", help="incr (default; the first backup is always full), diff or full"
    )
    p.add_argument("--json", action="store_true", help="list: pgBackRest's own JSON")
    return p


def dev_native_stack():
    """The dev stack, which must be native and archive its WAL (a compose stack: its `backup` profile, below)."""
    stack = select.dev_stack()
    if stack is None:
        raise ConfigError(f"no dev stack in {select.dev_state_dir()}", "start one with `invoke up`")
    if stack.info.backend != "native":
        raise ConfigError(
            "backup and restore drive the native dev stack; a compose stack has its own pgBackRest service",
            "docker compose -f image/compose.yaml --profile backup run --rm backup (docs/how-to/back-up-and-restore.md)",
        )
    if not stack.info.backup_repo:
        raise ConfigError(
            "the dev stack does not archive its WAL yet (it was started before pgBackRest was installed)",
            f"{pgbr.INSTALL_HINT}; then `invoke down && invoke up` enables archiving",
        )
    return stack


def run(args: argparse.Namespace) -> int:
    stack = dev_native_stack()
    if args.verb == "list":
        info = backups.repo_of(stack).info()
        if args.json:
            console.out(json.dumps(info, indent=2))
        else:
            for line in backups.describe(info):
                console.out(line)
        return 0
    if not stack.running()["postgres"]:
        raise ConfigError("the dev stack's PostgreSQL is not running", "`invoke up`, then back up")
    made = backups.backup_now(stack, args.kind)
    console.out(f"backup {made['label']} ({made['type']}) done; `python -m trm_directus backup list` lists them all")
    return 0
