"""A reference gateway: a real process that speaks the device-command contract over Redis.

It stands in for one instance of the ingestion gateway (another TRM service) in tests and benchmarks:
it keeps the session keys of the devices it "holds", reads its command stream through the consumer
group `gateway`, executes each command once (deduplicated on command_id), and answers on
`commands:replies` with `ack` and a plausible Teltonika answer, or `nack` (per kind), or nothing
(silent devices). After a Redis restart it re-registers its sessions and its group.

    python -m trm_directus gateway-sim --redis URL --instance gw-1 --imei 356307042441013 [--imei …]
        [--silent] [--nack KIND …] [--delay-ms N] [--refresh-seconds S]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import resp
from . import contract

ANSWERS = {
    "getgps": "GPS:1 Sat:9 Lat:41.327540 Long:19.818699 Alt:110 Speed:0 Dir:0",
    "getinfo": "RTC:2026/6/8 7:0 Init:2026/6/8 6:0 UpTime:3600s PWR:PwrVoltage RST:0 GPS:3 SAT:9 TTFF:12 TTLF:1 "
    "NOGPS:0:0 SR:0 FG:0 FL:0 SMS:0 REC:42 MD:1 DB:0",
}


def answer(kind: str, parameters: dict) -> str:
    if kind == "setperiod":
        return f"New value {parameters.get('seconds')}"
    if kind == "setdigout":
        outs = parameters.get("outputs", "")
        return " ".join(f"DOUT{i + 1}:{'IGNORED' if c == '?' else c}" for i, c in enumerate(outs))
    return ANSWERS.get(kind, f"{kind}: OK")


@dataclass
class Gateway:
    redis_url: str
    instance: str
    imeis: list[str]
    silent: bool = False
    nack_kinds: set[str] = field(default_factory=set)
    delay_ms: int = 0
    refresh_seconds: float = 20
    handled: int = 0

    def register(self, conn: resp.Connection) -> None:
        for imei in self.imeis:
            conn.call("SET", contract.session_key(imei), self.instance, "EX", str(contract.SESSION_TTL_SECONDS))
        try:
            conn.call("XGROUP", "CREATE", contract.command_stream(self.instance), contract.GATEWAY_GROUP, "0", "MKSTREAM")
        except resp.RedisError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def handle(self, conn: resp.Connection, entry_id: str, flat: list[str]) -> None:
        f = resp.fields(flat)
        stream = contract.command_stream(self.instance)
        first = conn.call("SET", contract.dedupe_key(f.get("command_id", "")), "1", "NX", "EX", str(contract.DEDUPE_TTL_SECONDS))
        if f.get("version") != contract.VERSION or first is None:  # another version, or a duplicate delivery
            print(f"{self.instance} {f.get('command_id')} skipped ({'duplicate' if first is None else 'version'})", flush=True)
            conn.call("XACK", stream, contract.GATEWAY_GROUP, entry_id)
            return
        kind, imei = f.get("kind", ""), f.get("imei", "")
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        if self.silent:
            outcome = "silent"
        else:
            status = "nack" if kind in self.nack_kinds else "ack"
            text = "Unknown command" if status == "nack" else answer(kind, json.loads(f.get("parameters") or "{}"))
            conn.call("XADD", contract.REPLIES_STREAM, "*", *contract.reply_fields(f["command_id"], self.instance, status, text))
            outcome = status
        conn.call("XACK", stream, contract.GATEWAY_GROUP, entry_id)
        self.handled += 1
        print(f"{self.instance} {f.get('command_id')} {imei} {kind} -> {outcome}", flush=True)

    def run(self, stop_after: float | None = None) -> None:
        """Serve until interrupted (or `stop_after` seconds); reconnects while Redis is away."""
        t0 = time.monotonic()
        try:
            self._serve(t0, stop_after)
        finally:
            self.stop()

    def _serve(self, t0: float, stop_after: float | None) -> None:
        conn: resp.Connection | None = None
        registered_at = 0.0
        while stop_after is None or time.monotonic() - t0 < stop_after:
            try:
                if conn is None:
                    conn = resp.Connection(self.redis_url, timeout=5)
                    registered_at = 0.0
                if time.monotonic() - registered_at >= self.refresh_seconds:
                    self.register(conn)
                    registered_at = time.monotonic()
                stream = contract.command_stream(self.instance)
                read = conn.call(
                    "XREADGROUP", "GROUP", contract.GATEWAY_GROUP, self.instance, "COUNT", "100", "BLOCK", "500",
                    "STREAMS", stream, ">",
                )  # fmt: skip
                for _, entries in read or []:
                    for entry_id, flat in entries:
                        self.handle(conn, entry_id, flat)
            except (OSError, resp.RedisError) as exc:
                if conn is not None:
                    conn.close()
                conn = None
                print(f"{self.instance}: redis: {exc}; reconnecting", file=sys.stderr, flush=True)
                time.sleep(0.5)
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        """The sessions end with the process (a real gateway deletes them when the TCP session closes)."""
        try:
            with resp.Connection(self.redis_url, timeout=2) as conn:
                for imei in self.imeis:
                    if conn.call("GET", contract.session_key(imei)) == self.instance:
                        conn.call("DEL", contract.session_key(imei))
        except (OSError, resp.RedisError):
            pass  # Redis is away: the keys expire by themselves


@dataclass
class Process:
    """A running reference gateway: its process and its output file (one line per command handled)."""

    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running(redis_url: str, instance: str, imeis: list[str], *extra: str, cwd=None) -> Iterator[Process]:
    """A reference gateway as its own process (`gateway-sim`), ready once it holds every session; stopped on
    exit. Its output goes to a file (a pipe nobody reads would stop it once full)."""
    args = [sys.executable, "-m", "trm_directus", "gateway-sim", "--redis", redis_url, "--instance", instance]
    args += [a for i in imeis for a in ("--imei", i)] + list(extra)
    fd, name = tempfile.mkstemp(prefix=f"gateway-{instance}-", suffix=".log")
    with os.fdopen(fd, "w") as out:
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
    gw = Process(proc, Path(name))
    try:
        deadline = time.monotonic() + 30
        with resp.Connection(redis_url) as conn:
            while any(conn.call("GET", contract.session_key(i)) != instance for i in imeis):
                if proc.poll() is not None or time.monotonic() > deadline:
                    what = f"gateway {instance} did not register its {len(imeis)} session(s) within 30 s"
                    raise RuntimeError(f"{what}: {gw.output()[-2000:]}")
                time.sleep(0.1)
        yield gw
    finally:
        proc.terminate()
        proc.wait(timeout=15)
