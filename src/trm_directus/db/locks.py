"""Database locks with deadlines, and who holds what a session waits for (pid, application, query).

Two session-level advisory locks exist, with fixed, documented keys (docs/explanations/boot-pipeline.md):
- BOOT_LOCK_ID (bytes of "TRM_BOOT"): held by `boot-steps` for boot steps 1-4;
- dbinit.runner.ADVISORY_LOCK_ID (bytes of "TRM_DBI0"): held by the db-init runner for one run.
They are different keys on different sessions, so a runner started inside a boot never waits for
its own boot. Waiting is polled with pg_try_advisory_lock (never a blocking pg_advisory_lock), so
it always ends by its deadline with a message naming the holder.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg

from .. import console
from ..deadlines import Deadline
from ..errors import WaitTimeout

BOOT_LOCK_ID = int.from_bytes(b"TRM_BOOT", "big", signed=True)

_SESSIONS_SQL = """
SELECT pid, coalesce(application_name, ''), coalesce(state, ''), coalesce(left(query, 200), ''),
       extract(epoch FROM now() - coalesce(xact_start, backend_start))::int
  FROM pg_stat_activity WHERE pid = ANY(%s) ORDER BY pid
"""
_ADVISORY_HOLDERS_SQL = """
SELECT pid FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((classid::bigint << 32) | objid::bigint) = %s
"""


@dataclass(frozen=True)
class Session:
    pid: int
    application: str
    state: str
    query: str
    seconds: int  # since its transaction (or, when idle, its connection) started

    def describe(self) -> str:
        app = self.application or "(no application_name)"
        query = " ".join(self.query.split())
        return f"pid {self.pid} ({app}; {self.state or 'unknown state'} for {self.seconds}s; last query: {query!r})"


def sessions(conn: psycopg.Connection, pids: list[int]) -> list[Session]:
    if not pids:
        return []
    return [Session(*row) for row in conn.execute(_SESSIONS_SQL, (pids,)).fetchall()]


def advisory_holders(conn: psycopg.Connection, key: int) -> list[Session]:
    """The sessions holding advisory lock `key` in this database."""
    pids = [r[0] for r in conn.execute(_ADVISORY_HOLDERS_SQL, (key,)).fetchall()]
    return sessions(conn, pids)


def blockers(conn: psycopg.Connection, pid: int) -> list[Session]:
    """The sessions that block backend `pid` (what it waits for: their locks)."""
    pids = conn.execute("SELECT pg_blocking_pids(%s)", (pid,)).fetchone()[0]
    return sessions(conn, list(pids or []))


def describe(found: list[Session]) -> str:
    return "; ".join(s.describe() for s in found) if found else "a session that has ended meanwhile"


class AdvisoryLock:
    """A session-level advisory lock taken within a deadline; waits report the holder every few seconds.

    `waited` (seconds) and `holders` (who held it when the wait began) tell callers that another
    session was busy first, so they can say that they re-check its work.
    """

    def __init__(
        self, conn: psycopg.Connection, key: int, name: str, deadline: Deadline, *, timeout: float | None = None
    ) -> None:
        self.conn = conn
        self.key = key
        self.name = name
        self.deadline = deadline
        self.timeout = deadline.seconds() if timeout is None else timeout
        self.waited = 0.0
        self.holders: list[Session] = []

    def _try(self) -> bool:
        return bool(self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])

    def __enter__(self) -> AdvisoryLock:
        t0 = time.monotonic()
        reported = None
        while not self._try():
            now = time.monotonic()
            holders = advisory_holders(self.conn, self.key)
            self.holders = self.holders or holders
            if now - t0 >= self.timeout:
                raise WaitTimeout(
                    f"gave up waiting for the {self.name} {self.key} after {self.timeout:g}s ({self.deadline.setting})",
                    f"the holder is still working or stuck: look at that process (a session whose process is gone can be "
                    f"ended with SELECT pg_terminate_backend(pid)); if it is only slow, raise {self.deadline.setting}",
                    details=f"held by {describe(holders)}",
                )
            if reported is None or now - reported >= 5:
                reported = now
                console.info(
                    f"waiting for the {self.name} {self.key} ({now - t0:.0f}s of {self.timeout:g}s): held by {describe(holders)}"
                )
            time.sleep(0.2)
        self.waited = time.monotonic() - t0
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.conn.closed and not self.conn.broken:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))


class BlockerWatch:
    """While a statement runs on `pid`, remember who blocks it (a second connection polls), and say so.

    PostgreSQL's lock_timeout error does not say whose lock it waited for; this does.
    """

    def __init__(self, dsn: str, pid: int, what: str, *, start_after: float = 0.3, every: float = 0.25) -> None:
        self.dsn, self.pid, self.what = dsn, pid, what
        self.start_after, self.every = start_after, every
        self.last: list[Session] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BlockerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        if self._stop.wait(self.start_after):
            return
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, application_name="trm-lock-watch") as conn:
                reported = None
                while not self._stop.is_set():
                    found = blockers(conn, self.pid)
                    if found:
                        self.last = found
                        now = time.monotonic()
                        if reported is None or now - reported >= 5:
                            reported = now
                            console.info(f"   {self.what} waits for a lock held by {describe(found)}")
                    self._stop.wait(self.every)
        except psycopg.Error:
            return  # diagnostics only: the statement's own outcome is what counts


def lock_waits(dsn: str) -> str:
    """Best effort, for a timeout message: which sessions of the database wait for a lock, and on whom."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3, application_name="trm-lock-watch") as conn:
            rows = conn.execute(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchall()
            lines = [
                f"{describe(sessions(conn, [pid]))} waits for a lock held by {describe(sessions(conn, list(by)))}"
                for pid, by in rows
            ]
    except psycopg.Error as exc:
        return f"(could not look at the database's lock waits: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc})"
    return "\n".join(lines) if lines else "no session of the database was waiting for a lock"
