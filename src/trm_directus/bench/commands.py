"""bench commands (issue 28): 1,000 device commands to 230 devices across 2 gateway instances.

Setup (not timed): 230 devices; two reference gateways (`gateway-sim`, real processes) hold 115
sessions each. Timed: `POST /items/commands` one after another (kinds getgps / getinfo / setperiod
in turn); for each, the time from the API's 2xx to `sent_at` (the XADD to the gateway's stream) and
to `acked_at` (the gateway's answer applied to the row), read back from the rows (the database,
the gateways and this process share one clock). Baseline, same run: the same messages put on the
gateways' streams by plain XADD from here and their replies read off `commands:replies` — the
round trip without Directus. Targets: p95 create → sent ≤ 50 ms; p95 create → acked ≤ 2× the
baseline's p95 round trip.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from .. import resp
from ..devices import contract
from ..devices.gateway import running
from ..directus.api import Directus
from ..stacks.native import NativeStack

DEVICES = 230
COMMANDS = 1000
KINDS = (("getgps", {}), ("getinfo", {}), ("setperiod", {"seconds": 30}))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def _imeis() -> list[str]:
    return [f"35{n:013d}" for n in range(7_000_000, 7_000_000 + DEVICES)]


def _through_directus(api: Directus, dsn: str, devices: list[dict]) -> tuple[list[float], list[float]]:
    posted: dict[str, float] = {}
    for i in range(COMMANDS):
        kind, params = KINDS[i % len(KINDS)]
        created = api.post("/items/commands", {"device_id": devices[i % DEVICES]["id"], "kind": kind, "parameters": params})
        posted[created["id"]] = time.time()
    deadline = time.monotonic() + 120
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM commands WHERE status IN ('queued', 'sent')").fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError("commands still open 120 s after the last create")
            time.sleep(0.2)
        rows = conn.execute(
            "SELECT id::text, status, extract(epoch FROM sent_at), extract(epoch FROM acked_at) FROM commands"
        ).fetchall()
    bad = [r for r in rows if r[1] != "acked"]
    if bad:
        raise RuntimeError(f"{len(bad)} command(s) not acked, e.g. {bad[:3]}")
    sent = [(float(r[2]) - posted[r[0]]) * 1000 for r in rows if r[0] in posted]
    acked = [(float(r[3]) - posted[r[0]]) * 1000 for r in rows if r[0] in posted]
    return sent, acked


def _plain_xadd(redis_url: str, imeis: list[str]) -> list[float]:
    """The same messages by plain XADD to the instance named by the session key, the reply read off the stream."""
    rtts: list[float] = []
    with resp.Connection(redis_url, timeout=15) as conn:  # longer than the blocking read below
        last = (conn.call("XREVRANGE", contract.REPLIES_STREAM, "+", "-", "COUNT", "1") or [["0-0"]])[0][0]
        for i in range(COMMANDS):
            kind, params = KINDS[i % len(KINDS)]
            imei, command_id = imeis[i % DEVICES], str(uuid.uuid4())
            now = datetime.now(UTC)
            fields = ["version", "1", "command_id", command_id, "imei", imei, "kind", kind, "parameters", json.dumps(params)]
            fields += ["queued_at", now.isoformat(), "timeout_at", now.isoformat()]
            t0 = time.monotonic()
            instance = conn.call("GET", contract.session_key(imei))
            conn.call("XADD", contract.command_stream(instance), "*", *fields)
            while True:
                read = conn.call("XREAD", "BLOCK", "5000", "STREAMS", contract.REPLIES_STREAM, last)
                if not read:
                    raise RuntimeError(f"no reply to {command_id} within 5 s")
                entries = read[0][1]
                last = entries[-1][0]
                if any(resp.fields(flat).get("command_id") == command_id for _, flat in entries):
                    break
            rtts.append((time.monotonic() - t0) * 1000)
    return rtts


def bench(repeat: int = 1) -> dict[str, Any]:
    imeis = _imeis()
    with NativeStack(from_template=True) as stack:
        api = Directus(stack.url, stack.info.admin_token)
        devices = api.post("/items/devices", [{"imei": i, "model": "Teltonika FMB920"} for i in imeis])
        devices.sort(key=lambda d: d["imei"])
        half = DEVICES // 2
        with running(stack.redis.url, "gw-1", imeis[:half]), running(stack.redis.url, "gw-2", imeis[half:]):
            for d in devices[:10]:  # warm-up: the first requests of a fresh server compile its code paths
                api.post("/items/commands", {"device_id": d["id"], "kind": "getgps"})
            time.sleep(2)
            with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
                conn.execute("DELETE FROM commands")
            t0 = time.monotonic()
            sent, acked = _through_directus(api, stack.info.dsn, devices)
            directus_s = time.monotonic() - t0
            baseline = _plain_xadd(stack.redis.url, imeis)
    return {
        "commands_sent_p50_ms": statistics.median(sent),
        "commands_sent_p95_ms": p95(sent),
        "commands_acked_p50_ms": statistics.median(acked),
        "commands_acked_p95_ms": p95(acked),
        "commands_xadd_rtt_p50_ms": statistics.median(baseline),
        "commands_xadd_rtt_p95_ms": p95(baseline),
        "commands_acked_ratio": p95(acked) / p95(baseline),
        "commands_1000_s": directus_s,
        "commands_load_average": os.getloadavg()[0],
    }
