"""bench commands (issue 28): 1,000 device commands to 230 devices across 2 gateway instances.

Setup (not timed): 230 devices; two reference gateways (`gateway-sim`, real processes) hold 115
sessions each. Timed: `POST /items/commands` one after another (kinds getgps / getinfo / setperiod
in turn); for each, the time from the API's 2xx to `sent_at` (the XADD to the gateway's stream) and
to `acked_at` (the gateway's answer applied to the row), read back from the rows (the database,
the gateways and this process share one clock). Baseline, same run: the same messages put on the
gateways' streams by plain XADD from here and their replies read off `commands:replies` — the
round trip without Directus. Targets: p95 create → sent ≤ 50 ms; p95 create → acked ≤ 2× the
baseline's p95 round trip.

The create's response waits for its own delivery (hooks.ts: a read of a command being delivered
waits for it), so "2xx → sent" is negative and "2xx → acked" is often negative too: the answer is on
the row before the API answers. What that costs is reported next to it: the create's own time
(request → 2xx) beside a plain create of a device in the same run, and the operator's whole wait
(request → acked).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from .. import console, resp
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


@dataclass
class Through:
    sent: list[float] = field(default_factory=list)  # 2xx → sent_at, ms
    acked: list[float] = field(default_factory=list)  # 2xx → acked_at, ms
    whole: list[float] = field(default_factory=list)  # request → acked_at, ms
    create: list[float] = field(default_factory=list)  # request → 2xx, ms
    answered: Counter = field(default_factory=Counter)  # the status the create's response showed


def _through_directus(api: Directus, dsn: str, devices: list[dict]) -> Through:
    out = Through()
    requested: dict[str, float] = {}
    posted: dict[str, float] = {}
    for i in range(COMMANDS):
        kind, params = KINDS[i % len(KINDS)]
        t0 = time.time()
        created = api.post("/items/commands", {"device_id": devices[i % DEVICES]["id"], "kind": kind, "parameters": params})
        posted[created["id"]], requested[created["id"]] = time.time(), t0
        out.create.append((posted[created["id"]] - t0) * 1000)
        out.answered[created["status"]] += 1
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
    for r in rows:
        if r[0] in posted:
            out.sent.append((float(r[2]) - posted[r[0]]) * 1000)
            out.acked.append((float(r[3]) - posted[r[0]]) * 1000)
            out.whole.append((float(r[3]) - requested[r[0]]) * 1000)
    return out


def _plain_creates(api: Directus) -> list[float]:
    """Baseline for the create's own time: as many creates of a device (a plain row, our hooks, no delivery)."""
    times = []
    for n in range(COMMANDS):
        t0 = time.time()
        api.post("/items/devices", {"imei": f"35{8_000_000_000_000 + n:013d}", "model": "Teltonika FMB920"})
        times.append((time.time() - t0) * 1000)
    return times


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
            through = _through_directus(api, stack.info.dsn, devices)
            directus_s = time.monotonic() - t0
            baseline = _plain_xadd(stack.redis.url, imeis)
            plain = _plain_creates(api)
    answered = ", ".join(f"{n} {status}" for status, n in through.answered.most_common())
    console.out(f"the creates' responses showed: {answered}")
    return {
        "commands_sent_p50_ms": statistics.median(through.sent),
        "commands_sent_p95_ms": p95(through.sent),
        "commands_acked_p50_ms": statistics.median(through.acked),
        "commands_acked_p95_ms": p95(through.acked),
        "commands_xadd_rtt_p50_ms": statistics.median(baseline),
        "commands_xadd_rtt_p95_ms": p95(baseline),
        "commands_acked_ratio": p95(through.acked) / p95(baseline),
        "commands_answered_acked": through.answered["acked"],
        "commands_create_p50_ms": statistics.median(through.create),
        "commands_create_p95_ms": p95(through.create),
        "commands_plain_create_p50_ms": statistics.median(plain),
        "commands_plain_create_p95_ms": p95(plain),
        "commands_create_ratio": p95(through.create) / p95(plain),
        "commands_whole_p50_ms": statistics.median(through.whole),
        "commands_whole_p95_ms": p95(through.whole),
        "commands_1000_s": directus_s,
        "commands_load_average": os.getloadavg()[0],
    }
