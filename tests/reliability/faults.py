"""Fault injectors for the reliability suite: a proxy in front of Directus, process hunting, table dumps.

The proxy forwards every request to the real Directus and can, for one request that matches,
hold the response after Directus has answered (the client sees a request "in flight" while the
server has already written), replace the response by garbage, or refuse requests with an HTTP
error. Nothing is mocked: the writes really happen in the real database.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg


@dataclass
class Rule:
    method: str
    path: str  # prefix of the request path
    action: str  # hold | garble | refuse
    body: bytes = b""
    status: int = 200
    times: int = 1
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and method == self.method and path.startswith(self.path)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.times -= 1
                    return rule
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        path = h.path.split("?")[0]
        rule = self._rule_for(h.command, path)
        if rule and rule.action == "refuse":
            self.seen.append((h.command, path, rule.status))
            return self._reply(h, rule.status, b'{"errors":[{"message":"injected fault","extensions":{"code":"FAULT"}}]}')
        headers = {k: v for k, v in h.headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        req = urllib.request.Request(self.upstream + h.path, data=body, method=h.command, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, data = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        self.seen.append((h.command, path, status))
        if rule and rule.action == "hold":
            rule.arrived.set()
            rule.release.wait(timeout=120)
        elif rule and rule.action == "garble":
            status, data = rule.status, rule.body
        self._reply(h, status, data)

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, data: bytes) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client is gone (killed): that is the fault being injected

    def close(self) -> None:
        for rule in self.rules:
            rule.release.set()
        self.server.shutdown()
        self.server.server_close()


SEED_TABLES = (
    "organizations",
    "vehicles",
    "devices",
    "organization_users",
    "organization_vehicles",
    "organization_devices",
    "events",
    "classes",
    "waypoint_radius_defaults",
    "stages",
    "segments",
    "waypoints",
    "speed_limit_zones",
    "penalty_formulas",
    "entries",
    "entry_crew",
    "entry_devices",
)
SEED_USERS = "email LIKE '%@example.com' AND email <> 'admin@example.com'"


def seed_state(dsn: str) -> dict[str, list[str]]:
    """Every row the seed manages, as JSON text, sorted (bookkeeping columns left out)."""
    state = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in SEED_TABLES:
            rows = conn.execute(
                f"SELECT (to_jsonb(t) - 'date_updated' - 'user_updated' - 'date_created' - 'user_created')::text FROM {table} t"
            ).fetchall()
            state[table] = sorted(r[0] for r in rows)
        rows = conn.execute(
            "SELECT jsonb_build_array(id, email, first_name, last_name, phone, birth_date, nationality)::text"
            f" FROM directus_users WHERE {SEED_USERS}"
        ).fetchall()
        state["directus_users"] = sorted(r[0] for r in rows)
    return state


def counts(state: dict[str, list[str]]) -> dict[str, int]:
    return {t: len(rows) for t, rows in state.items()}


def difference(before: dict[str, list[str]], after: dict[str, list[str]]) -> str:
    """'none' when equal, else which tables gained or lost rows (what a fault left or lost)."""
    parts = []
    for table in before:
        gained = len(set(after[table]) - set(before[table]))
        lost = len(set(before[table]) - set(after[table]))
        if gained or lost:
            parts.append(f"{table} +{gained}/-{lost}")
    return ", ".join(parts) or "none"


def clear_seed(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(SEED_TABLES)} CASCADE")
        conn.execute(f"DELETE FROM directus_users WHERE {SEED_USERS}")


def processes_tagged(tag: str) -> list[tuple[int, str]]:
    """Processes whose environment holds TRM_FAULT_TAG=<tag> (they inherit it from the process under test)."""
    found = []
    needle = f"TRM_FAULT_TAG={tag}".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                stat = Path(f"/proc/{pid}/stat").read_text()
                if stat.split(")")[-1].split()[0] != "Z":
                    found.append((int(pid), Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:120]))
        except OSError:
            continue
    return found
