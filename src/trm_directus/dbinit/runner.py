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

import hashlib
import os
import re
import socket
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from .. import __version__, console, deadlines
from ..db import locks
from ..db.settings import mask_dsn, wait_for
from ..errors import (
    ChecksumMismatch,
    ConfigError,
    MigrationFailed,
    MigrationLayoutError,
    MissingMigration,
    OutOfOrderMigration,
    TimescaleDBMissing,
)
from . import sqlsplit

PHASES = ("pre", "post")
POST_SUBDIR = "post"
FILE_RE = re.compile(r"^(?P<number>\d{3})_(?P<slug>[a-z0-9][a-z0-9_]*)\.sql$")
ALLOWED_OTHER_SUFFIXES = (".md",)
LEDGER_SCHEMA = "trm_db_init"
LEDGER = f"{LEDGER_SCHEMA}.ledger"
# Fixed and documented (README "db-init"): the ASCII bytes of "TRM_DBI0" as a signed 64-bit key.
ADVISORY_LOCK_ID = int.from_bytes(b"TRM_DBI0", "big", signed=True)
TIMESCALEDB_SETTING = "TRM_TIMESCALEDB"
# How often a busy backend checks that its client is still there (PostgreSQL 14+, Linux).
CLIENT_CHECK_INTERVAL = "2s"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"

LEDGER_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA};
CREATE TABLE IF NOT EXISTS {LEDGER} (
    file_name         text PRIMARY KEY,
    phase             text NOT NULL CHECK (phase IN ('pre', 'post')),
    number            integer NOT NULL UNIQUE,
    checksum          text NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT now(),
    duration_ms       integer NOT NULL,
    applied_by        text NOT NULL,
    runner_version    text NOT NULL,
    repaired_at       timestamptz,
    previous_checksum text
);
COMMENT ON TABLE {LEDGER} IS 'db-init ledger of trm-directus: one row per applied NNN_name.sql file';
"""


def checksum(data: bytes) -> str:
    """sha256 of the content with a UTF-8 BOM stripped and line endings normalised to LF."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class MigrationFile:
    path: Path
    phase: str
    number: int
    checksum: str
    statements: tuple[sqlsplit.Statement, ...] = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class LedgerRow:
    file_name: str
    phase: str
    number: int
    checksum: str
    applied_at: object
    duration_ms: int
    applied_by: str


@dataclass
class Plan:
    """What the ledger says against what the disk holds. Computing it writes nothing."""

    files: list[MigrationFile]
    applied: dict[str, LedgerRow]
    ledger_exists: bool

    @property
    def pending(self) -> list[MigrationFile]:
        return [f for f in self.files if f.name not in self.applied]

    @property
    def changed(self) -> list[tuple[MigrationFile, LedgerRow]]:
        return [
            (f, self.applied[f.name])
            for f in self.files
            if f.name in self.applied and self.applied[f.name].checksum != f.checksum
        ]

    @property
    def missing(self) -> list[LedgerRow]:
        on_disk = {f.name for f in self.files}
        return [row for name, row in sorted(self.applied.items()) if name not in on_disk]

    @property
    def out_of_order(self) -> list[tuple[MigrationFile, LedgerRow]]:
        result = []
        for phase in PHASES:
            done = [row for row in self.applied.values() if row.phase == phase]
            if not done:
                continue
            highest = max(done, key=lambda r: r.number)
            result += [(f, highest) for f in self.pending if f.phase == phase and f.number < highest.number]
        return result

    def state_of(self, f: MigrationFile) -> str:
        row = self.applied.get(f.name)
        if row is None:
            return "pending"
        return "applied" if row.checksum == f.checksum else "changed"


# --- discovery -----------------------------------------------------------------------------------


def discover(root: Path) -> list[MigrationFile]:
    """All migration files of both phases, in apply order; layout errors are raised before any run."""
    root = Path(root)
    if not root.is_dir():
        raise MigrationLayoutError(f"db-init directory {root} does not exist", "pass --dir pointing at the db-init directory")
    problems: list[str] = []
    files: list[MigrationFile] = []
    for phase, directory in (("pre", root), ("post", root / POST_SUBDIR)):
        if phase == "post" and directory.is_symlink():
            problems.append(f"{directory}: is a symbolic link (post/ must be a real directory inside db-init/)")
            continue
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            kind = _file_kind(path)
            if kind == "directory":
                if not (phase == "pre" and path.name == POST_SUBDIR):
                    problems.append(f"{path}: unexpected directory (only {POST_SUBDIR}/ may sit in db-init/)")
                continue
            if path.suffix in ALLOWED_OTHER_SUFFIXES:
                continue
            if kind != "file":
                problems.append(f"{path}: is {kind}: db-init files must be regular files (no links, FIFOs or devices)")
                continue
            m = FILE_RE.match(path.name)
            if not m:
                problems.append(f"{path}: name does not match NNN_name.sql (three digits, underscore, lower-case name)")
                continue
            try:
                files.append(_load(path, phase, int(m.group("number"))))
            except MigrationLayoutError as exc:
                problems.append(exc.what)
    by_number: dict[int, list[MigrationFile]] = {}
    for f in files:
        by_number.setdefault(f.number, []).append(f)
    for number, same in sorted(by_number.items()):
        if len(same) > 1:
            names = ", ".join(str(f.path.relative_to(root)) for f in same)
            problems.append(f"number {number:03d} is used by more than one file: {names}")
    if problems:
        raise MigrationLayoutError(
            f"db-init directory {root} is malformed ({len(problems)} problem(s)); nothing was run",
            "rename the files to NNN_name.sql with numbers unique across db-init/ and db-init/post/",
            details="\n".join(f"  {p}" for p in problems),
        )
    return sorted(files, key=lambda f: (PHASES.index(f.phase), f.number))


def _file_kind(path: Path) -> str:
    """What `path` itself is (symbolic links are not followed): file, directory, or what it is instead."""
    mode = path.lstat().st_mode
    for test, kind in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, opened without following a link or blocking on a FIFO swapped in meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise MigrationLayoutError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise MigrationLayoutError(f"{path}: is not a regular file")
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _load(path: Path, phase: str, number: int) -> MigrationFile:
    data = _read_regular(path)
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise MigrationLayoutError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    statements = tuple(sqlsplit.split(text))
    if not statements:
        raise MigrationLayoutError(f"{path}: holds no SQL statement")
    for stmt in statements:
        keyword = sqlsplit.transaction_control(stmt)
        if keyword:
            raise MigrationLayoutError(
                f"{path}:{stmt.line}: {keyword} cannot be used: the runner wraps each file in one transaction"
            )
    return MigrationFile(path=path, phase=phase, number=number, checksum=checksum(data), statements=statements)


# --- ledger --------------------------------------------------------------------------------------


def read_ledger(conn: psycopg.Connection) -> tuple[bool, dict[str, LedgerRow]]:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (LEDGER,)).fetchone()[0]
    if not exists:
        return False, {}
    rows = conn.execute(
        f"SELECT file_name, phase, number, checksum, applied_at, duration_ms, applied_by FROM {LEDGER}"
    ).fetchall()
    return True, {r[0]: LedgerRow(*r) for r in rows}


def plan(conn: psycopg.Connection, files: list[MigrationFile]) -> Plan:
    exists, applied = read_ledger(conn)
    return Plan(files=files, applied=applied, ledger_exists=exists)


def validate(p: Plan) -> None:
    """Refuse edited applied files, files missing on disk, and out-of-order pending files."""
    if p.changed:
        raise ChecksumMismatch(
            [(f.name, row.checksum, f.checksum) for f, row in p.changed],
            "revert the file(s) to their applied content (git checkout), or, after a deliberate and "
            "reviewed edit, record the new content with `python -m trm_directus repair <file>`; "
            "put new changes in a new NNN_name.sql file",
        )
    if p.missing:
        names = ", ".join(r.file_name for r in p.missing)
        raise MissingMigration(
            f"{len(p.missing)} applied db-init file(s) are missing on disk: {names}",
            "restore them from git history: applied files are never deleted or renamed",
        )
    if p.out_of_order:
        lines = [f"  {f.phase}/{f.name} is below the highest applied {row.file_name}" for f, row in p.out_of_order]
        raise OutOfOrderMigration(
            f"{len(p.out_of_order)} pending db-init file(s) are numbered below an applied file",
            "renumber the new file(s) above the highest applied number of their phase",
            details="\n".join(lines),
        )


def _timescaledb_mode(env: dict[str, str] | os._Environ) -> str:
    mode = env.get(TIMESCALEDB_SETTING, "required").strip().lower() or "required"
    if mode not in ("required", "optional"):
        raise ConfigError(
            f"{TIMESCALEDB_SETTING}={mode!r} is not understood",
            f"set {TIMESCALEDB_SETTING}=required (production) or optional (stacks without TimescaleDB)",
        )
    return mode


def _require_timescaledb(conn: psycopg.Connection, root: Path) -> None:
    """Required mode means production's shape: a database whose files were all applied in optional
    mode (a plain positions table) must not pass as converted just because nothing is pending."""
    installed, available = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),"
        " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    ).fetchone()
    if installed:
        return
    if not available:
        raise TimescaleDBMissing(
            f"{TIMESCALEDB_SETTING}=required, but this server has no TimescaleDB",
            f"run on a PostgreSQL with TimescaleDB, or set {TIMESCALEDB_SETTING}=optional for a development or test stack",
        )
    convert = root / "004_positions_hypertable.sql"
    raise TimescaleDBMissing(
        f"{TIMESCALEDB_SETTING}=required, but this database was built without TimescaleDB (optional mode): "
        "positions is a plain table",
        f"convert it, keeping its rows: `psql <database> -f {convert}` (idempotent; creates the extension and "
        f"runs create_hypertable with migrate_data), then run again; or keep it as is with {TIMESCALEDB_SETTING}=optional; "
        "or start from an empty database (`stack down --purge` for the dev stack)",
    )


@dataclass
class RunResult:
    applied: list[tuple[MigrationFile, float]] = field(default_factory=list)
    skipped: int = 0
    would_run: list[MigrationFile] = field(default_factory=list)


class Runner:
    """Runs the db-init files of `root` against `dsn`. Read-only methods never write."""

    def __init__(self, dsn: str, root: Path, *, timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        self.dsn = dsn
        self.root = Path(root)
        self.timeout = timeout
        self.env = dict(os.environ) if env is None else env

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
        mode = _timescaledb_mode(self.env)
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
            conn.execute("SELECT set_config('trm.timescaledb', %s, false)", (mode,))
            self._limit(conn)
            with self._lock(conn):
                conn.execute(LEDGER_DDL)
                p = plan(conn, files)
                validate(p)
                todo = [f for f in p.pending if selected(f)]
                result.skipped = sum(1 for f in files if selected(f)) - len(todo)
                for f in todo:
                    result.applied.append((f, self._apply_one(conn, f)))
                if mode == "required" and phase != "post":
                    _require_timescaledb(conn, self.root)
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
