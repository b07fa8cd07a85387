"""Arguments shared by the commands that talk to a running Directus (default: the dev stack)."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg

from .. import console, paths
from ..db import settings as db
from ..directus.api import Directus
from ..errors import ConfigError
from ..schema import snapshot as snapshot_mod
from ..stacks import select
from . import _token


def add(p: argparse.ArgumentParser, *, snapshot: bool = True) -> None:
    p.add_argument("--against", "--url", dest="url", help="Directus URL (default: DIRECTUS_URL or the dev stack)")
    _token.add(p)  # default: DIRECTUS_TOKEN or the dev stack's
    if snapshot:
        p.add_argument("--snapshot", type=Path, help="snapshot file (default: snapshots/schema.yaml)")


def snapshot_path(args: argparse.Namespace) -> Path:
    return args.snapshot or paths.repo_root() / "snapshots" / "schema.yaml"


def client(args: argparse.Namespace) -> Directus:
    url = args.url or os.environ.get("DIRECTUS_URL")
    token = _token.resolve(args)
    if not url or not token:
        stack = select.dev_stack()
        if stack is None:
            raise ConfigError(
                "no Directus to talk to",
                "start the dev stack (`invoke up`), or pass --against URL with DIRECTUS_TOKEN or --token-file",
            )
        url = url or stack.info.url
        token = token or stack.info.admin_token
    return Directus(url, token)


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[psycopg.Connection | None]:
    """The target's database for the guard's row counts: --dsn, else the dev stack's when the target is the
    dev stack, else DB_* settings when DB_HOST is set; None (rows not counted, said so) when unknown or down."""
    dsn = getattr(args, "dsn", None)
    if not dsn and not (args.url or os.environ.get("DIRECTUS_URL")):
        stack = select.dev_stack()
        dsn = stack.info.dsn if stack is not None else None
    if not dsn and os.environ.get("DB_HOST"):
        dsn = db.DbSettings.from_env().dsn
    if not dsn:
        console.warn("no database for the target (pass --dsn): the rows each change affects are not counted")
        yield None
        return
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        console.warn(f"database {db.mask_dsn(dsn)} did not answer ({str(exc).strip()[:200]}): rows are not counted")
        yield None
        return
    with conn:
        yield conn


def owned_tables() -> set[str]:
    """db-init-owned tables: never compared, never applied (ghost collections, lessons.md)."""
    return snapshot_mod.owned_tables(paths.repo_root() / "db-init")


def live_snapshot(api: Directus) -> dict:
    data, _ = snapshot_mod.without_tables(api.snapshot(), owned_tables())
    return data
