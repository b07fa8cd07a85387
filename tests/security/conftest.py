"""The adversarial suite's world: both clubs seeded on one stack, people who log in, and a fingerprint
of everything a refused request must leave as it was.

Organisation A is Motorsport Club Albania (Rally Albania 2026), B the Adriatic Trail Club
(tests/integration/access_world.py builds them). Attacks come from outside (anonymous), from every
org role of B against A's rows, and from A's roles that lack the right.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import yaml

from tests.conftest import REPO
from tests.integration.access_world import A_USERS, PASSWORD, World
from trm_directus import resp
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError
from trm_directus.processor import STREAM, insert_positions
from trm_directus.stacks.native import NativeStack

# B's people by org role (seeds/adriatic-trail-club.yaml); cora is org-admin of B and a participant in A.
B_USERS = {
    "org-admin": "bora.admin@example.com",
    "race-director": "dino.director@example.com",
    "timekeeper": "toni.timekeeper@example.com",
    "marshal": "mila.marshal@example.com",
    "participant": "pero.pilot@example.com",
    "viewer": "vera.viewer@example.com",
}
CORA = "cora.copilot@example.com"
T0 = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # during Rally Albania 2026
# What a refused request must leave unchanged besides the business collections.
SYSTEM_TABLES = (
    "directus_access",
    "directus_users",
    "directus_activity",
    "directus_revisions",
    "recompute_requests",
    "positions",
)


def collections() -> list[str]:
    schema = yaml.safe_load((REPO / "snapshots" / "schema.yaml").read_text())
    return sorted(c["collection"] for c in schema["collections"] if c.get("schema"))


class Fingerprint:
    """Per table: a digest of every row (as text, sorted) and the count; Redis: the stream's length."""

    def __init__(self, dsn: str, redis_url: str) -> None:
        self.dsn = dsn
        self.redis_url = redis_url
        rows = {t: f"SELECT to_jsonb(r) AS j FROM {t} r" for t in [*collections(), *SYSTEM_TABLES]}
        # a login is not a change a request made (the attackers log in when first needed): its activity
        # row and the user's last_access are left out
        rows["directus_activity"] += " WHERE action <> 'login'"
        rows["directus_users"] = "SELECT to_jsonb(r) - 'last_access' - 'last_page' AS j FROM directus_users r"
        self.sql = " UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(j::text, E'\\n' ORDER BY j::text), '')), count(*) FROM ({q}) x"
            for t, q in rows.items()
        )

    def take(self) -> dict[str, Any]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            state: dict[str, Any] = {t: (digest, n) for t, digest, n in conn.execute(self.sql).fetchall()}
        state["redis " + STREAM] = resp.call(self.redis_url, "XLEN", STREAM)
        return state

    @staticmethod
    def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
        return [
            f"{k}: {before.get(k)} -> {after.get(k)}" for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
        ]


@pytest.fixture(scope="session")
def security_stack(seeded_stack) -> NativeStack:
    """The stack both clubs are seeded on, shared with the access matrix and the browser test: every
    test here leaves it as it found it (that is what the suite asserts)."""
    return seeded_stack


@pytest.fixture(scope="session")
def world(security_stack) -> World:
    admin = Directus(security_stack.url, security_stack.info.admin_token)
    w = World(admin, security_stack.url)
    w.build()
    # positions of both clubs' devices during the rally: a flag has something to change
    for org in (w.a, w.b):
        device = admin.get(f"/items/devices/{org.device}")
        insert_positions(security_stack.info.dsn, device["imei"], T0, 120)
    return w


@pytest.fixture(scope="session")
def fingerprint(security_stack) -> Fingerprint:
    return Fingerprint(security_stack.info.dsn, security_stack.redis.url)


class People:
    """Logged-in clients by e-mail, and the anonymous client. A login is reused for a few minutes
    (Directus's access tokens expire after 15)."""

    REUSE_SECONDS = 300

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: dict[str, tuple[float, Directus]] = {}

    def __call__(self, email: str | None) -> Directus:
        if email is None:
            return Directus(self.url, "")
        at, client = self.clients.get(email, (0.0, None))
        if client is None or time.monotonic() - at > self.REUSE_SECONDS:
            client = Directus.login(self.url, email, PASSWORD)
            self.clients[email] = (time.monotonic(), client)
        return client


@pytest.fixture(scope="session")
def people(world) -> People:
    return People(world.url)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
GHOST = "00000000-0000-4000-8000-000000000000"  # an id that exists nowhere


def masked(data: Any) -> str:
    """An answer as text with every id replaced: what it says, whichever row it was about."""
    return UUID.sub("<id>", json.dumps(data, sort_keys=True))


def messages(data: Any) -> str:
    """The error messages of an answer, one per line (for assertions on what a refusal says)."""
    errors = data.get("errors", []) if isinstance(data, dict) else []
    return "\n".join(str(e.get("message", "")) for e in errors)


def call(client: Directus, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
    """(status, data or error body): a refusal is an answer here, not an exception."""
    try:
        return 200, client.request(method, path, body, params=params or None)
    except DirectusError as e:
        try:
            return e.status, json.loads(e.body or "null")
        except ValueError:
            return e.status, e.body


__all__ = ["A_USERS", "B_USERS", "CORA", "GHOST", "T0", "Fingerprint", "People", "call", "masked", "messages"]
