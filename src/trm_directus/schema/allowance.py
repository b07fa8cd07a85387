"""The one-run permission for destructive schema changes, bound to the snapshot it was given for.

Contract (docs/explanations/schema-guard.md):
- the token is the first 12 hex characters of the sha256 of the snapshot file's bytes; every refusal
  prints it, and `sha256sum snapshots/schema.yaml | cut -c1-12` computes the same; any 12–64
  character prefix of the hash is accepted;
- `SCHEMA_APPLY_ALLOW_DESTRUCTIVE=<token>` (boot) or `--allow-destructive <token>` (commands) allows
  the destructive changes of that snapshot only: a value left behind does nothing for another
  snapshot (a rebuilt, stale image has another hash) and is ignored with a warning;
- once a token has been used to apply destructive changes to a database, the database records it
  (trm_db_init.schema_allowances) and refuses it afterwards: one run, even for the same snapshot;
- the old `true` is not accepted (it allowed any snapshot, forever): ignored with a warning;
- blocked changes (the database would reject them) are never allowed (impact.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import psycopg

from .. import console

TOKEN_CHARS = 12
TABLE = "trm_db_init.schema_allowances"
OFF = ("", "0", "false", "no", "off")
OLD_TRUE = ("1", "true", "yes", "on")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Allowance:
    granted: bool
    digest: str  # sha256 of the snapshot being applied
    setting: str  # how it is given, for messages: SCHEMA_APPLY_ALLOW_DESTRUCTIVE or --allow-destructive

    @property
    def token(self) -> str:
        return self.digest[:TOKEN_CHARS]

    def how_to_allow(self) -> str:
        given = f"pass {self.setting} {self.token}" if self.setting.startswith("-") else f"set {self.setting}={self.token}"
        return f"{given} for one run (it allows this snapshot only, once per database)"

    def consume(self, conn: psycopg.Connection | None, changes: list[str]) -> None:
        """Record that this token has been used on this database: it allows nothing there any more."""
        if conn is None or not self.granted:
            return
        conn.execute("CREATE SCHEMA IF NOT EXISTS trm_db_init")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (snapshot_sha256 text PRIMARY KEY, used_at timestamptz NOT NULL"
            " DEFAULT now(), used_by text NOT NULL DEFAULT session_user, changes text NOT NULL)"
        )
        conn.execute(
            f"INSERT INTO {TABLE} (snapshot_sha256, changes) VALUES (%s, %s) ON CONFLICT (snapshot_sha256) DO NOTHING",
            (self.digest, "\n".join(changes)),
        )


def used_at(conn: psycopg.Connection, snapshot_digest: str) -> object | None:
    if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()[0] is None:
        return None
    row = conn.execute(f"SELECT used_at FROM {TABLE} WHERE snapshot_sha256 = %s", (snapshot_digest,)).fetchone()
    return row[0] if row else None


def resolve(value: str | None, snapshot_digest: str, *, setting: str, conn: psycopg.Connection | None) -> Allowance:
    """What `value` allows for the snapshot whose sha256 is `snapshot_digest` (warnings say why it does not)."""
    given = (value or "").strip()
    allowance = Allowance(False, snapshot_digest, setting)
    shown = f"{setting}={given}"
    if given.lower() in OFF:
        return allowance
    if given.lower() in OLD_TRUE:
        console.warn(
            f"{shown} is not accepted any more: a value left behind would let a later, stale snapshot through. "
            f"It is ignored; to allow this snapshot's destructive changes once, {allowance.how_to_allow()}"
        )
        return allowance
    if not re.fullmatch(r"[0-9a-fA-F]{12,64}", given):
        console.warn(f"{shown} is not a snapshot token (12+ hex characters): ignored")
        return allowance
    if not snapshot_digest.startswith(given.lower()):
        console.warn(f"{shown} was given for another snapshot (this one is {allowance.token}): ignored")
        return allowance
    when = used_at(conn, snapshot_digest) if conn is not None else None
    if when is not None:
        console.warn(
            f"{shown} was already used on {when:%Y-%m-%d %H:%M:%S %Z} to apply this snapshot's destructive changes to "
            "this database: a setting left behind allows nothing. Ignored"
        )
        return allowance
    allowance.granted = True
    return allowance
