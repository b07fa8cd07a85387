"""The db-init migration runner: discover NNN_name.sql files, validate them against the ledger, apply.

Two phases share one ledger: `pre` (files directly in the directory, run before Directus's schema
apply) and `post` (files in `post/`, run after it, for SQL on Directus-created tables). File
numbers are unique across both phases; ordering is checked within a phase.

The ledger lives in its own schema, `trm_db_init`, outside Directus's search path, so it never
shows up as a "ghost" collection (lessons.md "Snapshots").

Concurrency: every writing command holds the session-level advisory lock ADVISORY_LOCK_ID for its
whole run and releases it in `finally`, so several containers booting at once apply each file
exactly once.

Deadlines (deadlines.py): waiting for that lock ends after DB_INIT_LOCK_TIMEOUT_SECONDS naming the
holder; each statement runs with lock_timeout (DB_INIT_TABLE_LOCK_TIMEOUT_SECONDS; the failure
names whose lock it waited for) and statement_timeout (DB_INIT_STATEMENT_TIMEOUT_SECONDS); and
client_connection_check_interval makes the server notice within seconds that a runner was killed
mid-statement, roll its file back and free the lock.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from .. import __version__, console, deadlines
from ..db import locks
from ..db.settings import mask_dsn, wait_for
from ..errors import ConfigError, MigrationFailed
from . import sqlsplit
from .discovery import PHASES, MigrationFile, discover
from .ledger import LEDGER, LEDGER_DDL, Plan, plan, validate

# Fixed and documented (docs/reference/db-init.md): the ASCII bytes of "TRM_DBI0" as a signed 64-bit key.
ADVISORY_LOCK_ID = int.from_bytes(b"TRM_DBI0", "big", signed=True)
# How often a busy backend checks that its client is still there (PostgreSQL 14+, Linux).
CLIENT_CHECK_INTERVAL = "2s"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


Check = Callable[[psycopg.Connection, str], None]


@dataclass
class RunResult:
    applied: list[tuple[MigrationFile, float]] = field(default_factory=list)
    skipped: int = 0
    would_run: list[MigrationFile] = field(default_factory=list)


class Runner:
    """Runs the db-init files of `root` against `dsn`. Read-only methods never write."""

    def __init__(
        self,
        dsn: str,
        root: Path,
        *,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
        settings: Callable[[], dict[str, str]] | None = None,
        checks: Sequence[Check] = (),
    ) -> None:
        """`settings`: session settings the files read (`current_setting(...)`), computed when a run starts;
        `checks`: called as check(connection, phase) after each run's files, still under the lock."""
        self.dsn = dsn
        self.root = Path(root)
        self.timeout = timeout
        self.env = dict(os.environ) if env is None else env
        self.settings = settings or dict
        self.checks = tuple(checks)

    def _connect(self) -> psycopg.Connection:
        return wait_for(self.dsn, self.timeout, role="trm-db-init")

    def _limit(self, conn: psycopg.Connection) -> None:
        """Deadlines for every statement of this session (see the module docstring)."""
        lock_s = deadlines.TABLE_LOCK.seconds(self.env)
        statement_s = deadlines.STATEMENT.seconds(self.env)
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{round(lock_s * 1000)}ms",))
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{round(statement_s * 1000)}ms",))
        conn.execute("SELECT set_config('client_connection_check_interval', %s, false)", (CLIENT_CHECK_INTERVAL,))

    def _lock(self, conn: psycopg.Connection) -> locks.AdvisoryLock:
        return advisory_lock(conn, deadlines.DB_INIT_LOCK.seconds(self.env))

    # read-only ------------------------------------------------------------------------------------

    def plan(self) -> Plan:
        files = discover(self.root)
        with self._connect() as conn:
            return plan(conn, files)

    # writing --------------------------------------------------------------------------------------

    def migrate(self, phase: str = "pre", *, dry_run: bool = False) -> RunResult:
        if phase not in (*PHASES, "all"):
            raise ConfigError(f"unknown phase {phase!r}", "use --phase pre, post or all")
        settings = self.settings()
        files = discover(self.root)
        selected = lambda f: phase == "all" or f.phase == phase  # noqa: E731
        result = RunResult()
        with self._connect() as conn:
            if dry_run:
                p = plan(conn, files)
                validate(p)
                result.would_run = [f for f in p.pending if selected(f)]
                result.skipped = sum(1 for f in files if selected(f)) - len(result.would_run)
                return result
            for name, value in settings.items():
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
            self._limit(conn)
            with self._lock(conn):
                conn.execute(LEDGER_DDL)
                p = plan(conn, files)
                validate(p)
                todo = [f for f in p.pending if selected(f)]
                result.skipped = sum(1 for f in files if selected(f)) - len(todo)
                for f in todo:
                    result.applied.append((f, self._apply_one(conn, f)))
                for check in self.checks:
                    check(conn, phase)
        return result

    def _apply_one(self, conn: psycopg.Connection, f: MigrationFile) -> float:
        console.info(f"-> applying {f.phase}/{f.name} ({len(f.statements)} statement(s))")
        current: list[sqlsplit.Statement] = []

        def on_notice(diag: psycopg.errors.Diagnostic) -> None:
            severity = diag.severity_nonlocalized or diag.severity or "NOTICE"
            if severity == "WARNING":
                console.warn(f"[{f.name}] {diag.message_primary}")
            else:
                console.info(f"   [{f.name}] {severity}: {diag.message_primary}")

        conn.add_notice_handler(on_notice)
        t0 = time.monotonic()
        watch = locks.BlockerWatch(self.dsn, conn.info.backend_pid, f"{f.phase}/{f.name}")
        try:
            with watch, conn.transaction():
                for stmt in f.statements:
                    current[:] = [stmt]
                    conn.execute(stmt.sql)
                duration = time.monotonic() - t0
                conn.execute(
                    f"INSERT INTO {LEDGER} (file_name, phase, number, checksum, duration_ms, applied_by, runner_version)"
                    " VALUES (%s, %s, %s, %s, %s, session_user || '@' || %s, %s)",
                    (f.name, f.phase, f.number, f.checksum, round(duration * 1000), socket.gethostname(), __version__),
                )
        except psycopg.Error as exc:
            raise _failure(f, current[0] if current else None, exc, watch.last, self.env) from None
        finally:
            conn.remove_notice_handler(on_notice)
        console.info(f"ok applied {f.phase}/{f.name} in {console.fmt_seconds(duration)}")
        return duration

    def repair(self, names: Iterable[str] = ()) -> list[tuple[str, str, str]]:
        """Record the on-disk checksum of changed applied files (all changed ones, or those named)."""
        wanted = set(names)
        files = discover(self.root)
        with self._connect() as conn:
            self._limit(conn)
            with self._lock(conn):
                p = plan(conn, files)
                changed = {f.name: (f, row) for f, row in p.changed}
                unknown = wanted - changed.keys()
                if unknown:
                    states = {f.name: p.state_of(f) for f in files}
                    detail = ", ".join(f"{n} ({states.get(n, 'not a db-init file')})" for n in sorted(unknown))
                    raise ConfigError(
                        f"nothing to repair for: {detail}", "repair only files whose state is 'changed' (see `status`)"
                    )
                targets = [changed[n] for n in sorted(wanted)] if wanted else list(changed.values())
                with conn.transaction():
                    for f, _row in targets:
                        conn.execute(
                            f"UPDATE {LEDGER} SET previous_checksum = checksum, checksum = %s, repaired_at = now()"
                            " WHERE file_name = %s",
                            (f.checksum, f.name),
                        )
                return [(f.name, row.checksum, f.checksum) for f, row in targets]


def advisory_lock(conn: psycopg.Connection, timeout: float | None = None) -> locks.AdvisoryLock:
    """The db-init lock ADVISORY_LOCK_ID on `conn`, waited for at most DB_INIT_LOCK_TIMEOUT_SECONDS."""
    return locks.AdvisoryLock(conn, ADVISORY_LOCK_ID, "db-init lock", deadlines.DB_INIT_LOCK, timeout=timeout)


def _failure(
    f: MigrationFile,
    stmt: sqlsplit.Statement | None,
    exc: psycopg.Error,
    blocked_by: list[locks.Session] | None = None,
    env: dict[str, str] | None = None,
) -> MigrationFailed:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    pg_error = f"{diag.sqlstate or ''} {message}".strip()
    line = None
    if stmt is not None:
        line = stmt.line
        if diag.statement_position:
            line = stmt.line_of_offset(int(diag.statement_position) - 1)
        else:
            inner = _plpgsql_line(stmt, diag.context or "")
            if inner:
                line = inner
    extra = []
    if diag.message_detail:
        extra.append(f"detail: {diag.message_detail}")
    if diag.message_hint:
        extra.append(f"hint: {diag.message_hint}")
    if diag.context:
        extra.append(f"context: {diag.context.strip()}")
    hint = (
        f"fix the cause shown above (or the SQL in {f.path}) and run migrate again; "
        "nothing of this file was applied (its transaction was rolled back)"
    )
    if diag.sqlstate == LOCK_NOT_AVAILABLE:
        setting = deadlines.TABLE_LOCK.setting
        waited = deadlines.TABLE_LOCK.seconds(env)
        pg_error += f" after {waited:g}s ({setting}); the lock is held by {locks.describe(blocked_by or [])}"
        hint = (
            f"nothing of this file was applied; let that session finish (or end it: SELECT pg_terminate_backend(pid)) "
            f"and boot again; raise {setting} if waiting longer is right"
        )
    elif diag.sqlstate == QUERY_CANCELED and "statement timeout" in message:
        setting = deadlines.STATEMENT.setting
        pg_error += f" after {deadlines.STATEMENT.seconds(env):g}s ({setting})"
        hint = f"nothing of this file was applied; make the statement faster, or raise {setting} for this run"
    if stmt is not None:
        excerpt = "\n".join(f"  {stmt.line + i:>4} | {ln}" for i, ln in enumerate(stmt.sql.splitlines()[:8]))
        extra.append(f"statement starting at line {stmt.line}:\n{excerpt}")
    return MigrationFailed(str(f.path), line, pg_error, hint, details="\n".join(extra))


_PLPGSQL_LINE = re.compile(r"PL/pgSQL function inline_code_block line (\d+)")


def _plpgsql_line(stmt: sqlsplit.Statement, context: str) -> int | None:
    """File line of an error inside a DO block, from PL/pgSQL's 'line N' of the block body."""
    m = _PLPGSQL_LINE.search(context)
    tag = re.search(r"\$[A-Za-z_0-9]*\$", stmt.sql)
    if not m or not tag:
        return None
    body_start_line = stmt.sql.count("\n", 0, tag.end())
    return stmt.line + body_start_line + int(m.group(1)) - 1


def describe_target(dsn: str) -> str:
    return f"{mask_dsn(dsn)} (ledger {LEDGER})"
