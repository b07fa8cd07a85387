"""`restore [--to TIME] [--into DIR]`: the dev stack's database from its pgBackRest repository, then Directus on it."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from .. import console
from ..backup import stack as backups
from ..errors import ConfigError
from ..stacks import restored
from .backup import dev_native_stack


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("restore", help="restore the dev stack's database (current one moved aside), or into a new stack")
    p.add_argument(
        "--to", metavar="TIME", help="point in time with a time zone, e.g. 2026-06-08T14:03:00+02:00 (default: latest)"
    )
    p.add_argument("--into", type=Path, metavar="DIR", help="restore into a new stack in DIR; the dev stack is left alone")
    return p


def parse_target(text: str | None) -> str | None:
    """`--to` as PostgreSQL's recovery_target_time wants it; a time without a zone is refused (which zone?)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--to {text!r} is not an ISO 8601 time", "write it like 2026-06-08T14:03:00+02:00") from None
    if when.tzinfo is None:
        raise ConfigError(f"--to {text!r} has no time zone", "add one: 2026-06-08T14:03:00Z or …+02:00")
    return when.isoformat(sep=" ")


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.to)
    source = dev_native_stack()
    if args.into:
        stack = restored.restore_into(source, args.into.resolve(), target)
        console.out(f"restored into a new stack at {stack.url} (state {stack.info.state_dir}); the dev stack is unchanged")
        return 0
    moved = backups.restore_in_place(source, target)
    console.out(f"dev stack restored{' to ' + target if target else ''}: {source.url} (`stack env`, `invoke psql`)")
    for what, path in moved.items():
        if path:
            console.out(f"  {what.replace('_', ' ')}: {path}")
    return 0
