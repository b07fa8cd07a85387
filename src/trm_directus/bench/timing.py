"""`bench timing`: Rally Albania at full size on a fresh stack — the processor's writes, a ranking read, publishing.

230 entries (the seed's synthetic event and loader) × 7 stages of one special stage each, with a
start and a finish geofence and 58 waypoints: 60 crossings per entry per stage (96,600), ~290
proposed penalties per stage (~2,000), 1,610 results. Measured: one stage's crossings bulk-written
the processor's way (one INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING per stage; and the
same batch again, all conflicts), penalties and elapsed times (pipelined upserts), a stage ranking
read through REST (overall and one class, p95 of 50), the same ranking computed live in SQL, one
penalty applied through REST (the re-rank included), a stage's review (one in ten waived with a
note in one batch, the rest applied in one update) and publishing it (stages.status = official)
through REST. Baselines measured in the same run: the same crossings into a table without keys,
checks or triggers, and the smallest REST read.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from .. import console, paths
from ..directus.api import Directus
from ..rules import load as rules_load
from ..rules import rules_file as rules
from ..seed import loader, synthetic
from ..stacks.native import NativeStack
from .positions import backend_cpu_seconds

ENTRIES, STAGES, WAYPOINTS = 230, 7, 58
PENALTIES_PER_STAGE = 290
T0 = 1_780_000_000  # 2026-05-28, seconds since the epoch

CROSSINGS = """
INSERT INTO entry_crossings (id, entry_id, geofence_id, waypoint_id, ts, source, device_imei)
SELECT gen_random_uuid(), e, g, w, to_timestamp(t), 'gps', d
  FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::float8[], %s::text[]) AS x(e, g, w, t, d)
ON CONFLICT DO NOTHING
"""
FLOOR = CROSSINGS.replace("entry_crossings", "crossings_floor").replace("ON CONFLICT DO NOTHING", "")
PENALTY = """
INSERT INTO entry_penalties (id, entry_id, stage_id, type, formula_id, formula_snapshot, inputs, seconds, dedupe_key)
VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (entry_id, dedupe_key) DO UPDATE SET seconds = EXCLUDED.seconds, inputs = EXCLUDED.inputs
 WHERE entry_penalties.status = 'proposed'
"""
ELAPSED = """
INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds) VALUES (gen_random_uuid(), %s, %s, %s)
ON CONFLICT (entry_id, stage_id) DO UPDATE SET elapsed_seconds = EXCLUDED.elapsed_seconds
 WHERE stage_results.status = 'provisional'
"""


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def _tx(conn: psycopg.Connection, sql: str, rows: list) -> None:
    """The processor's write: one statement per row (pipelined), or one for a batch, in one transaction."""
    with conn.transaction():
        conn.cursor().executemany(sql, rows)


def _timed(fn) -> float:
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def setup(api: Directus, dsn: str) -> dict[str, Any]:
    """The event, its entries (REST, the seed's loader), course and rules (REST), waypoints (SQL)."""
    doc = synthetic.event(entries=ENTRIES, slug="rally-albania-bench")
    loader.load(api, doc)
    event = api.get("/items/events", filter={"slug": {"_eq": "rally-albania-bench"}}, fields="id,slug")[0]
    entries = api.get(
        "/items/entries", filter={"event_id": {"_eq": event["id"]}}, fields="id,race_number,devices.device_id.imei", limit=-1
    )
    text = (paths.repo_root() / "seeds" / "rally-albania-2026-rules.yaml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(text.replace("event: rally-albania-2026\n", ""))  # the Rally Albania rules, for this event
        rules_load.import_rules(api, rules.load(path), event["slug"])
    stages = []
    for n in range(STAGES):
        stage = api.post("/items/stages", {"event_id": event["id"], "name": f"Stage {n}", "sort_order": n, "status": "open"})
        fences = api.post(
            "/items/geofences",
            [
                {"event_id": event["id"], "name": f"S{n} {kind}", "kind": kind, "geometry": _square(19.5 + n * 0.1 + dx)}
                for kind, dx in (("start", 0), ("finish", 0.05))
            ],
        )
        segment = api.post(
            "/items/segments",
            {
                "stage_id": stage["id"],
                "sort_order": 1,
                "type": "special-stage",
                "entry_geofence_id": fences[0]["id"],
                "exit_geofence_id": fences[1]["id"],
            },
        )
        stages.append({"stage": stage, "segment": segment, "fences": [f["id"] for f in fences]})
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in stages:
            conn.execute(
                "INSERT INTO waypoints (id, segment_id, code, type, location, open_radius_m, validation_radius_m, sort_order) "
                "SELECT gen_random_uuid(), %s, 'WP' || i, CASE WHEN i %% 10 = 0 THEN 'WPN' ELSE 'WPM' END, "
                "ST_SetSRID(ST_MakePoint(19.5 + i * 0.001, 41.3), 4326), 800, 90, i FROM generate_series(1, %s) AS i",
                (s["segment"]["id"], WAYPOINTS),
            )
            s["waypoints"] = [
                r[0]
                for r in conn.execute("SELECT id FROM waypoints WHERE segment_id = %s ORDER BY sort_order", (s["segment"]["id"],))
            ]
    return {"event": event, "entries": entries, "stages": stages}


def _square(lon: float, lat: float = 41.3, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def crossings_of(world: dict[str, Any], s: dict[str, Any], n: int) -> tuple[list, ...]:
    """One stage's crossings: per entry its start and finish geofences and every waypoint, 60 rows."""
    e_ids, g_ids, w_ids, ts, imeis = [], [], [], [], []
    for k, entry in enumerate(world["entries"]):
        imei = entry["devices"][0]["device_id"]["imei"]
        start = T0 + n * 86400 + k * 60
        targets = [(s["fences"][0], None), *((None, w) for w in s["waypoints"]), (s["fences"][1], None)]
        for i, (g, w) in enumerate(targets):
            e_ids.append(entry["id"])
            g_ids.append(g)
            w_ids.append(w)
            ts.append(start + i * 60.0)
            imeis.append(imei)
    return e_ids, g_ids, w_ids, ts, imeis


FIELDS = "entry_id.race_number,entry_id.class_id.code,elapsed_seconds,penalty_seconds,total_seconds,rank_overall,rank_class"


def ranking(api: Directus, filter_: dict[str, Any], sort: str) -> list[dict[str, Any]]:
    """A stage's classification as an operator reads it: stage_results, sorted by rank."""
    return api.get("/items/stage_results", filter=filter_, sort=sort, fields=FIELDS, limit=-1)


def penalty_row(entry: dict[str, Any], s: dict[str, Any], formula: tuple, i: int) -> tuple:
    """A proposed speeding penalty as the processor writes it (bracket > 20 ≤ 40 km/h)."""
    snapshot = f'{{"id": "{formula[0]}", "offence_min": 20, "offence_max": 40, "penalty_seconds": {formula[1]}}}'
    inputs = f'{{"over_kmh": {21 + i % 19}, "samples": {1 + i % 4}}}'
    return (
        entry["id"],
        s["stage"]["id"],
        "speeding",
        formula[0],
        snapshot,
        inputs,
        formula[1],
        f"speeding:{s['stage']['id']}:{i}",
    )


def bench(repeat: int = 3) -> dict[str, Any]:
    rng = random.Random(2026)
    with NativeStack() as stack:
        api = Directus(stack.url, stack.info.admin_token)
        with console.step("timing bench setup (230 entries, 7 stages, 58 waypoints each, rules)"):
            world = setup(api, stack.info.dsn)
        write_s, floor_s, again_s, pen_s, res_s, write_cpu, floor_cpu = [], [], [], [], [], [], []
        pen_cpu, res_cpu = [], []  # server CPU of the writes that fire the ranking triggers
        with psycopg.connect(stack.info.dsn) as conn:
            backend = conn.info.backend_pid  # its CPU time: what a write costs whatever the machine's load
            speeding = conn.execute(
                "SELECT id, penalty_seconds FROM penalty_formulas WHERE event_id = %s AND type = 'speeding' AND offence_min = 20",
                (world["event"]["id"],),
            ).fetchone()
            for n, s in enumerate(world["stages"]):
                batch = crossings_of(world, s, n)
                # The floor on this machine at this moment: the same rows into a table without keys, checks or triggers.
                with conn.transaction():
                    conn.execute("CREATE TEMP TABLE IF NOT EXISTS crossings_floor (LIKE entry_crossings INCLUDING DEFAULTS)")
                    c0 = backend_cpu_seconds(backend)
                    floor_s.append(_timed(lambda b=batch: conn.execute(FLOOR, b)))
                    floor_cpu.append(backend_cpu_seconds(backend) - c0)
                    conn.execute("TRUNCATE crossings_floor")
                c0 = backend_cpu_seconds(backend)
                write_s.append(_timed(lambda b=batch: _tx(conn, CROSSINGS, [b])))  # commit included: deferred checks run there
                write_cpu.append(backend_cpu_seconds(backend) - c0)
                if n == 0:
                    again_s.append(_timed(lambda b=batch: _tx(conn, CROSSINGS, [b])))
                picked = [rng.choice(world["entries"]) for _ in range(PENALTIES_PER_STAGE)]
                rows = [penalty_row(e, s, speeding, i) for i, e in enumerate(picked)]
                c0 = backend_cpu_seconds(backend)
                pen_s.append(_timed(lambda r=rows: _tx(conn, PENALTY, r)))
                pen_cpu.append(backend_cpu_seconds(backend) - c0)
                results = [(e["id"], s["stage"]["id"], 3 * 3600 + rng.randint(0, 5400)) for e in world["entries"]]
                c0 = backend_cpu_seconds(backend)
                res_s.append(_timed(lambda r=results: _tx(conn, ELAPSED, r)))  # the stage's re-rank runs at commit
                res_cpu.append(backend_cpu_seconds(backend) - c0)
            counts = {
                t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in (
                    "entries",
                    "stages",
                    "waypoints",
                    "penalty_formulas",
                    "entry_crossings",
                    "entry_penalties",
                    "stage_results",
                )
            }
            target = world["stages"][0]["stage"]["id"]
            live = [
                _timed(lambda: conn.execute("SELECT * FROM trm_timing.stage_ranking(%s)", (target,)).fetchall())
                for _ in range(50)
            ]
        klass = api.get("/items/classes", filter={"event_id": {"_eq": world["event"]["id"]}, "code": {"_eq": "M-1"}})[0]["id"]
        by_stage = {"stage_id": {"_eq": target}}
        by_class = {**by_stage, "entry_id": {"class_id": {"_eq": klass}}}
        overall = [_timed(lambda: ranking(api, by_stage, "rank_overall")) for _ in range(50)]
        flat = [
            _timed(
                lambda: api.get(
                    "/items/stage_results",
                    filter=by_stage,
                    sort="rank_overall",
                    fields="entry_id,total_seconds,rank_overall",
                    limit=-1,
                )
            )
            for _ in range(50)
        ]
        rest_floor = [_timed(lambda: api.get("/items/stage_results", fields="id", limit=1)) for _ in range(50)]
        in_class = [_timed(lambda: ranking(api, by_class, "rank_class")) for _ in range(50)]
        sample = ranking(api, by_stage, "rank_overall")[:5]
        apply_one, review_s, publish_s = [], [], []
        for s in world["stages"][: max(1, repeat)]:
            sid = s["stage"]["id"]
            proposed = api.get(
                "/items/entry_penalties", filter={"stage_id": {"_eq": sid}, "status": {"_eq": "proposed"}}, fields="id", limit=-1
            )
            first, rest = proposed[0]["id"], proposed[1:]
            apply_one.append(_timed(lambda f=first: api.patch(f"/items/entry_penalties/{f}", {"status": "applied"})))
            # The race director waives one in ten with a note (a batch of edits), then applies the rest at once.
            waived = [{"id": p["id"], "status": "waived", "note": "bench: GPS gap"} for p in rest[::10]]
            applied = {"keys": [p["id"] for i, p in enumerate(rest) if i % 10], "data": {"status": "applied"}}
            review_s.append(
                _timed(lambda w=waived: api.patch("/items/entry_penalties", w, fields="id"))
                + _timed(lambda a=applied: api.patch("/items/entry_penalties", a, fields="id"))
            )
            publish_s.append(_timed(lambda i=sid: api.patch(f"/items/stages/{i}", {"status": "official"}, fields="id")))
    console.out(f"timing bench rows: {', '.join(f'{k} {v:,}' for k, v in counts.items())}")
    console.out("stage ranking (REST, first 5 rows): rank, #, class, elapsed, penalty, total, class rank")
    for r in sample:
        e = r["entry_id"]
        console.out(
            f"  {r['rank_overall']:>3} #{e['race_number']:<4} {e['class_id']['code']:<4} {r['elapsed_seconds']:>6} "
            f"{r['penalty_seconds']:>5} {r['total_seconds']:>6} {r['rank_class']:>3}"
        )
    return {
        "timing_crossings_stage_s": max(write_s),
        "timing_crossings_cpu_s": max(write_cpu),
        "timing_crossings_floor_cpu_s": floor_cpu[write_cpu.index(max(write_cpu))],
        "timing_crossings_again_s": again_s[0],
        "timing_penalties_stage_s": max(pen_s),
        "timing_results_stage_s": max(res_s),
        "timing_penalties_cpu_s": sum(pen_cpu),
        "timing_results_cpu_s": sum(res_cpu),
        "timing_ranking_read_p95_s": _p95(overall),
        "timing_ranking_class_p95_s": _p95(in_class),
        "timing_ranking_sql_p95_s": _p95(live),
        "timing_ranking_flat_p95_s": _p95(flat),
        "timing_rest_floor_p95_s": _p95(rest_floor),
        "timing_crossings_floor_s": floor_s[write_s.index(max(write_s))],
        "timing_crossings_ratio": max(w / f for w, f in zip(write_s, floor_s, strict=True)),
        "timing_crossings_floor_all": floor_s,
        "timing_apply_penalty_s": statistics.median(apply_one),
        "timing_review_stage_s": statistics.median(review_s),
        "timing_publish_stage_s": max(publish_s),
        "timing_crossings_stage_all": write_s,
        "timing_publish_stage_all": publish_s,
        "timing_rows": counts,
    }
