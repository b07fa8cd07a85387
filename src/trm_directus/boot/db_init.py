"""This project's db-init: the generic runner (dbinit/) with what this project's files rely on.

- TRM_TIMESCALEDB (required, the default, or optional) reaches the files as the session setting
  `trm.timescaledb`: 001_extensions.sql refuses a server without TimescaleDB unless it is optional,
  004_positions_hypertable.sql converts `positions` when TimescaleDB is there.
- The invariant on `positions`, checked after every pre-schema run in required mode: a database whose
  files were all applied in optional mode (a plain `positions` table) must not pass as converted just
  because nothing is pending. A directory without a `positions` table (not this project's db-init) is
  not this check's business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import psycopg

from ..dbinit.runner import Runner
from ..errors import ConfigError, TimescaleDBMissing

SETTING = "TRM_TIMESCALEDB"
CONVERSION_FILE = "004_positions_hypertable.sql"


def timescaledb_mode(env: Mapping[str, str]) -> str:
    mode = env.get(SETTING, "required").strip().lower() or "required"
    if mode not in ("required", "optional"):
        raise ConfigError(
            f"{SETTING}={mode!r} is not understood",
            f"set {SETTING}=required (production) or optional (stacks without TimescaleDB)",
        )
    return mode


def runner(dsn: str, root: Path, *, timeout: float = 60.0, env: dict[str, str] | None = None) -> Runner:
    """The runner of `root` against `dsn` with this project's setting and check."""
    env = dict(os.environ) if env is None else env
    root = Path(root)

    def check(conn: psycopg.Connection, phase: str) -> None:
        if phase != "post" and timescaledb_mode(env) == "required":
            require_timescaledb(conn, root)

    return Runner(
        dsn, root, timeout=timeout, env=env, settings=lambda: {"trm.timescaledb": timescaledb_mode(env)}, checks=[check]
    )


def require_timescaledb(conn: psycopg.Connection, root: Path) -> None:
    """Required mode means production's shape: TimescaleDB installed where `positions` exists."""
    has_positions, installed, available = conn.execute(
        "SELECT to_regclass('public.positions') IS NOT NULL,"
        " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),"
        " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    ).fetchone()
    if installed or not has_positions:
        return
    if not available:
        raise TimescaleDBMissing(
            f"{SETTING}=required, but this server has no TimescaleDB",
            f"run on a PostgreSQL with TimescaleDB, or set {SETTING}=optional for a development or test stack",
        )
    convert = root / CONVERSION_FILE
    raise TimescaleDBMissing(
        f"{SETTING}=required, but this database was built without TimescaleDB (optional mode): positions is a plain table",
        f"convert it, keeping its rows: `psql <database> -f {convert}` (idempotent; creates the extension and "
        f"runs create_hypertable with migrate_data), then run again; or keep it as is with {SETTING}=optional; "
        "or start from an empty database (`stack down --purge` for the dev stack)",
    )
