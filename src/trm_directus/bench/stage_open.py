"""bench stage-open (issue #14): opening a stage of 230 entries through REST, next to the same inserts in plain SQL.

Setup (not timed): a rally of 230 `started` entries, an official input stage with 230 clean times, and
`repeat` stages to open, each with three segments (liaison, special stage, liaison: 690 start slots).
Timed, interleaved: `PATCH /items/stages/:id {"status": "open"}` (strategy previous_stage_clean_result:
the extension reads the input stage's results, orders, inserts the slots and computes the closing times,
in one transaction); the baseline writes the same 690 rows (one INSERT … SELECT FROM unnest) and the
status in one SQL transaction on a twin stage; the REST floor is a PATCH of a stage's notes (no opening).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ..directus.api import Directus
from ..stacks.native import NativeStack

ENTRIES = 230
SEGMENTS = (("liaison", 3600, 4200), ("special-stage", 7200, 10800), ("liaison", 1800, 3600))
T0 = datetime(2026, 6, 9, 7, 0, tzinfo=UTC)
INTERVAL = 60

BASELINE_SQL = (
    "INSERT INTO entry_segment_starts (id, entry_id, segment_id, start_position, target_at, manual_override) "
    "SELECT gen_random_uuid(), e, s, p, t, false "
    "FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::timestamptz[]) AS u(e, s, p, t)"
)


def _stage(api: Directus, event: dict, n: int, **over: Any) -> dict[str, Any]:
    stage = api.post(
        "/items/stages",
        {
            "event_id": event["id"],
            "name": f"Stage {n}",
            "sort_order": n,
            "starts_at": T0.isoformat(),
            "start_interval_seconds": INTERVAL,
            **over,
        },
    )
    segs = api.post(
        "/items/segments",
        [
            {"stage_id": stage["id"], "sort_order": i, "type": t, "target_duration_seconds": target, "max_duration_seconds": mx}
            for i, (t, target, mx) in enumerate(SEGMENTS, 1)
        ],
    )
    return {"stage": stage, "segments": [s["id"] for s in sorted(segs, key=lambda s: s["sort_order"])]}


def setup(api: Directus, dsn: str, repeat: int) -> dict[str, Any]:
    org = api.post("/items/organizations", {"name": "Bench Org", "slug": "bench-org"})
    event = api.post(
        "/items/events",
        {
            "organization_id": org["id"],
            "name": "Stage-open bench",
            "slug": "stage-open-bench",
            "discipline": "rally",
            "starts_at": "2026-06-06T06:00:00Z",
            "ends_at": "2026-06-13T18:00:00Z",
        },
    )
    klass = api.post("/items/classes", {"event_id": event["id"], "code": "T-1", "name": "Cars", "sort_order": 1})
    vehicles = api.post("/items/vehicles", [{"make": "Toyota", "model": "Hilux", "year": 2020} for _ in range(ENTRIES)])
    entries = api.post(
        "/items/entries",
        [
            {"event_id": event["id"], "class_id": klass["id"], "race_number": 100 + i, "status": "started", "vehicle_id": v["id"]}
            for i, v in enumerate(vehicles, 1)
        ],
    )
    prologue = _stage(api, event, 0, name="Prologue", status="closed")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds, status) "
            "SELECT gen_random_uuid(), e, %s, 3000 + (hashtext(e::text) & 1023), 'provisional' FROM unnest(%s::uuid[]) AS e",
            (prologue["stage"]["id"], [e["id"] for e in entries]),
        )
    api.patch(f"/items/stages/{prologue['stage']['id']}", {"status": "official"})
    over = {"start_order_strategy": "previous_stage_clean_result", "start_order_input_stage_id": prologue["stage"]["id"]}
    opened = [_stage(api, event, n, **over) for n in range(1, repeat + 1)]
    twins = [_stage(api, event, n, **over) for n in range(repeat + 1, 2 * repeat + 1)]
    return {"entries": [e["id"] for e in entries], "opened": opened, "twins": twins, "prologue": prologue}


def _baseline(conn: psycopg.Connection, twin: dict[str, Any], order: list[str]) -> None:
    e_ids, s_ids, positions, targets = [], [], [], []
    for p, entry in enumerate(order, 1):
        at = T0 + timedelta(seconds=(p - 1) * INTERVAL)
        for seg, (_, target, _) in zip(twin["segments"], SEGMENTS, strict=True):
            e_ids.append(entry)
            s_ids.append(seg)
            positions.append(p)
            targets.append(at)
            at += timedelta(seconds=target)
    with conn.transaction():
        conn.execute(BASELINE_SQL, (e_ids, s_ids, positions, targets))
        conn.execute("UPDATE stages SET status = 'open' WHERE id = %s", (twin["stage"]["id"],))


def bench(repeat: int = 3) -> dict[str, Any]:
    with NativeStack() as stack:
        api = Directus(stack.url, stack.info.admin_token)
        world = setup(api, stack.info.dsn, repeat)
        runs, sql_runs, floor_runs = [], [], []
        with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
            order = [
                r[0]
                for r in conn.execute(
                    "SELECT r.entry_id::text FROM stage_results r JOIN entries e ON e.id = r.entry_id "
                    "WHERE r.stage_id = %s ORDER BY r.elapsed_seconds, e.race_number",
                    (world["prologue"]["stage"]["id"],),
                )
            ]
            for i, (stage, twin) in enumerate(zip(world["opened"], world["twins"], strict=True)):
                sid = stage["stage"]["id"]
                t0 = time.monotonic()
                api.patch(f"/items/stages/{sid}", {"status": "open"})
                runs.append(time.monotonic() - t0)
                t0 = time.monotonic()
                _baseline(conn, twin, order)
                sql_runs.append(time.monotonic() - t0)
                t0 = time.monotonic()
                api.patch(f"/items/stages/{sid}", {"notes": f"run {i}"})
                floor_runs.append(time.monotonic() - t0)
                written = conn.execute(
                    "SELECT count(*) FROM entry_segment_starts WHERE segment_id = ANY(%s::uuid[])", (stage["segments"],)
                ).fetchone()
                assert written == (ENTRIES * len(SEGMENTS),), written
            same = conn.execute(
                "SELECT count(*) FROM entry_segment_starts a JOIN entry_segment_starts b ON a.entry_id = b.entry_id "
                "AND a.start_position = b.start_position AND a.target_at = b.target_at "
                "WHERE a.segment_id = %s AND b.segment_id = %s",
                (world["opened"][0]["segments"][0], world["twins"][0]["segments"][0]),
            ).fetchone()
            assert same == (ENTRIES,), f"the baseline does not write the same start list: {same}"
    open_s, sql_s = statistics.median(runs), statistics.median(sql_runs)
    return {
        "stage_open_230_s": open_s,
        "stage_open_sql_s": sql_s,
        "stage_open_rest_floor_s": statistics.median(floor_runs),
        "stage_open_ratio": open_s / sql_s,
        "stage_open_load_average": os.getloadavg()[0],
        "stage_open_all": runs,
    }
