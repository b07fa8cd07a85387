"""Benchmarks for the issue targets, measured on real stacks (never asserted in tests).

Each benchmark returns named timings; `run()` prints a table with the targets and writes
reports/bench.json. Targets on the 2-core reference machine (issues #3, #4, #6, #9, #10, #13, #14).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .. import console, paths
from ..services.node import ensure_directus
from ..stacks.native import NativeStack, health
from . import backup as bench_backup
from . import drift_floor as bench_drift_floor
from . import scale as bench_scale

# name -> (target seconds or None, description)
TARGETS: dict[str, tuple[float | None, str]] = {
    "install_cold_s": (None, "npm ci of Directus into an empty cache"),
    "boot_fresh_s": (None, "new native stack (initdb, empty database) to healthy, cached install"),
    "boot_warm_s": (20.0, "restart on an existing database to healthy (warm boot)"),
    "drift_gate_s": (60.0, "drift gate end to end (cached install and extensions)"),
    "drift_growth_ratio": (1.25, "drift gate now / drift gate on the baseline revision's artifacts, same run"),
    **bench_drift_floor.TARGETS,  # issue #23: Directus's own CLI doing the gate's work, same run
    **bench_scale.TARGETS,  # issue #27: 1 and 2 Directus instances behind HAProxy, same run
    **bench_backup.TARGETS,  # issue #26: backup, restore and the recovery point at full size
    "upgrade_gate_s": (None, "upgrade gate end to end (base: the merge base with main; cached install and extensions)"),
    "upgrade_drift_gate_s": (None, "baseline, same run: the drift gate end to end"),
    "upgrade_drift_ratio": (None, "upgrade gate / drift gate, same run (×, not seconds)"),
    "seed_cold_s": (10.0, "Rally Albania 2026 seed into a fresh stack"),
    "seed_noop_s": (3.0, "Rally Albania 2026 seed again (no changes)"),
    "seed_200_entries_s": (30.0, "synthetic event with 200 entries, same loader"),
    "course_import_s": (10.0, "OpenRally import, 7 stages / 2,000 km / ~400 waypoints, into a fresh stack"),
    "course_noop_s": (2.0, "the same import again (no changes)"),
    "course_base_wp_post_s": (None, "baseline, same run: the import's waypoint rows as one plain batch POST"),
    "course_base_classes_s": (None, "baseline, same run: as many plain rows of a simple collection (classes)"),
    "course_read_s": (None, "part of the no-op: reading and checking the 7 files (no Directus)"),
    "course_base_gets_s": (None, "part of the no-op: the import's GETs (stages, segments, waypoints, zones)"),
    # issue #13; keys ending in _per_s are rates: the target is a minimum
    "positions_insert_hypertable_parallel_per_s": (
        50_000.0,
        "rows/s, 1M positions, 230 devices, 8 days, ON CONFLICT, 2 writers (median of runs)",
    ),
    "positions_insert_hypertable_parallel_min_per_s": (None, "rows/s, the slowest of those runs"),
    "positions_insert_hypertable_parallel_max_per_s": (None, "rows/s, the fastest of those runs"),
    "positions_insert_plain_parallel_per_s": (None, "rows/s, the same by 2 writers into a plain table (median)"),
    "positions_insert_hypertable_per_s": (None, "rows/s, the same batches by one writer, hypertable"),
    "positions_insert_plain_per_s": (None, "rows/s, the same batches by one writer, plain table"),
    "positions_insert_ratio": (None, "hypertable / plain insert rate"),
    "positions_read_hypertable_p95_ms": (20.0, "ms p95, one device, one hour, faulty = false"),
    "positions_read_plain_p95_ms": (None, "ms p95, the same windows on the plain table"),
    "positions_read_ratio": (None, "hypertable / plain p95 read time"),
    "positions_insert_hypertable_cpu_us_per_row": (None, "server CPU µs per row written, hypertable"),
    "positions_insert_plain_cpu_us_per_row": (None, "server CPU µs per row written, plain table"),
    "positions_chunks": (None, "chunks of the hypertable after the benchmark"),
    "positions_load_average": (None, "1-minute load average of the machine while inserting"),
    "faulty_10k_s": (1.0, "flag a window of 10,000 positions: POST until the message is on the stream"),
    "faulty_10k_sql_s": (None, "baseline: the same UPDATE of 10,000 rows in plain SQL"),
    # timing (issue #10): Rally Albania at full size, bench/timing.py
    "timing_crossings_stage_s": (5.0, "one stage's crossings (230 × 60 = 13,800) bulk-written by the processor (SQL)"),
    "timing_crossings_floor_s": (None, "baseline, same moment: those rows into a table without keys, checks or triggers"),
    "timing_crossings_ratio": (None, "worst stage write / its baseline (×, not seconds)"),
    "timing_crossings_cpu_s": (None, "server CPU of the worst stage write (the database's own cost, whatever the load)"),
    "timing_crossings_floor_cpu_s": (None, "server CPU of its baseline (no keys, checks or triggers)"),
    "timing_crossings_again_s": (None, "the same stage's crossings again (all ON CONFLICT DO NOTHING)"),
    "timing_penalties_stage_s": (None, "~290 proposed penalties of a stage, pipelined SQL upserts"),
    "timing_results_stage_s": (None, "230 elapsed times of a stage, pipelined SQL upserts (re-rank included)"),
    "timing_penalties_cpu_s": (None, "server CPU of the 7 stages' penalty writes (sum; load-independent)"),
    "timing_results_cpu_s": (None, "server CPU of the 7 stages' elapsed-time writes, re-ranks included (sum)"),
    "timing_ranking_read_p95_s": (0.3, "a stage ranking (230 rows, overall) read through REST, p95 of 50"),
    "timing_ranking_class_p95_s": (0.3, "the same stage's ranking of one class through REST, p95 of 50"),
    "timing_ranking_flat_p95_s": (None, "the same read without the entry's race number and class (no relations), p95"),
    "timing_rest_floor_p95_s": (None, "baseline: the smallest REST read (one id of stage_results), p95 of 50"),
    "timing_ranking_sql_p95_s": (None, "the same ranking computed live in SQL (trm_timing.stage_ranking), p95"),
    "timing_apply_penalty_s": (None, "one penalty applied through REST (re-rank of the stage included)"),
    "timing_review_stage_s": (None, "~290 penalties of a stage reviewed via REST: 1 in 10 waived (batch), the rest at once"),
    "timing_publish_stage_s": (2.0, "publishing a stage (stages.status = official) through REST"),
    # stage opening (issue #14), bench/stage_open.py
    "stage_open_230_s": (2.0, "opening a stage of 230 entries (690 start slots, 3 segments) through REST"),
    "stage_open_sql_s": (None, "baseline, same run: the same 690 rows + the status in one plain SQL transaction"),
    "stage_open_rest_floor_s": (None, "baseline, same run: a PATCH of the same stage that opens nothing (notes)"),
    "stage_open_ratio": (None, "opening through REST / the plain SQL baseline (×, not seconds)"),
    "stage_open_load_average": (None, "1-minute load average of the machine at the end of the runs"),
    # device commands (issue #28), bench/commands.py; ms
    "commands_sent_p50_ms": (None, "1,000 commands: the API's 2xx to sent (XADD to the gateway's stream), p50"),
    "commands_sent_p95_ms": (50.0, "1,000 commands: the API's 2xx to sent, p95"),
    "commands_acked_p50_ms": (None, "the API's 2xx to acked (the gateway's answer on the row), p50"),
    "commands_acked_p95_ms": (None, "the API's 2xx to acked, p95"),
    "commands_xadd_rtt_p50_ms": (None, "baseline: plain XADD to the gateway's stream until its reply, p50"),
    "commands_xadd_rtt_p95_ms": (None, "baseline: plain XADD until the reply, p95"),
    "commands_acked_ratio": (2.0, "p95 create → acked / p95 of the plain XADD round trip (×, not ms; < 0: acked before the 2xx)"),
    "commands_answered_acked": (None, "of the 1,000 creates, how many responses already showed acked (a count)"),
    "commands_create_p50_ms": (None, "the create itself: request → 2xx, p50 (it waits for its delivery)"),
    "commands_create_p95_ms": (None, "the create itself: request → 2xx, p95"),
    "commands_plain_create_p50_ms": (None, "baseline, same run: request → 2xx of a plain device create, p50"),
    "commands_plain_create_p95_ms": (None, "baseline, same run: request → 2xx of a plain device create, p95"),
    "commands_create_ratio": (None, "p95 command create / p95 plain device create (×, not ms)"),
    "commands_whole_p50_ms": (None, "the operator's whole wait: request → acked, p50"),
    "commands_whole_p95_ms": (None, "the operator's whole wait: request → acked, p95"),
    "commands_1000_s": (None, "the 1,000 creates one after another, until the last is acked"),
    "commands_load_average": (None, "1-minute load average at the end"),
    # access (issue #11): the same REST read as admin and as the org role (bench/access.py); ms
    **{
        f"access_{read}_{who}_{q}_ms": (200.0 if (who, q) == ("role", "p95") else None, f"{what}, as {who}, {q}")
        for read, what in (
            ("participant_entry", "a participant's entry with crew and devices"),
            ("director_entries", "a race director's list of the event's 230 entries with class and crew"),
            ("viewer_ranking", "a viewer's stage ranking (230 published results)"),
        )
        for who in ("admin", "role")
        for q in ("p50", "p95")
    },
    **{
        f"access_{r}_ratio": (2.0, "role p95 / admin p95, same run (×)")
        for r in ("participant_entry", "director_entries", "viewer_ranking")
    },
    **{
        f"access_participant_entry_star_{who}_p95_ms": (None, f"the same entry with fields=*, as {who}, p95")
        for who in ("admin", "role")
    },
    "access_participant_entry_star_ratio": (None, "role p95 / admin p95 of the fields=* form (×)"),
    # the course-edit preview and the entry timeline (issue 29), bench/preview.py
    "preview_p50_s": (None, "course-edit preview, a waypoint moved 200 m, 230 entries × 5 h at 1 Hz, p50"),
    "preview_p95_s": (3.0, "the same, p95 (as the race director)"),
    "preview_count_p50_s": (None, "baseline, same run: SELECT count(*) of the stage window's positions, p50"),
    "preview_count_p95_s": (None, "the same baseline, p95"),
    "preview_ratio": (None, "preview p95 / baseline p95 (×)"),
    "preview_positions": (None, "positions in the stage window (count)"),
    "preview_entries_affected": (None, "entries whose crossing or penalty the move changes (count)"),
    "preview_load_average": (None, "1-minute load average at the end of the runs"),
    "timeline_p50_ms": (None, "ms, GET /trm/entries/:id/timeline (first page of 50) of an entry with 500+ items, p50"),
    "timeline_p95_ms": (200.0, "ms, the same, p95 (as the race director)"),
    "timeline_500_p95_ms": (None, "ms, the same with all items in one page (limit=500), p95"),
    "timeline_admin_p95_ms": (None, "ms, the first page as the administrator (no permission rules), p95"),
    "timeline_entry_read_p95_ms": (None, "ms, baseline, same run: the entry with crew and devices through REST, p95"),
    "timeline_ratio": (None, "timeline p95 / entry read p95 (×)"),
    "timeline_items": (None, "history items of the entry (count)"),
}


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def bench_install_cold(repeat: int = 1) -> dict[str, float]:
    del repeat  # one cold install is minutes; repeating it measures the network
    cache = Path(tempfile.mkdtemp(prefix="trm-bench-cache-"))
    old = os.environ.get("TRM_CACHE_DIR")
    os.environ["TRM_CACHE_DIR"] = str(cache)
    try:
        return {"install_cold_s": _timed(ensure_directus)}
    finally:
        if old is None:
            os.environ.pop("TRM_CACHE_DIR", None)
        else:
            os.environ["TRM_CACHE_DIR"] = old
        shutil.rmtree(cache, ignore_errors=True)


def bench_boot(repeat: int = 3) -> dict[str, float]:
    ensure_directus()
    fresh, warm = [], []
    for _ in range(repeat):
        t0 = time.monotonic()
        with NativeStack() as stack:
            fresh.append(time.monotonic() - t0)
            stack.stop_directus()
            t1 = time.monotonic()
            stack.boot()
            assert health(stack.url) is not None
            warm.append(time.monotonic() - t1)
    return {
        "boot_fresh_s": statistics.median(fresh),
        "boot_warm_s": statistics.median(warm),
        "boot_fresh_all": fresh,
        "boot_warm_all": warm,
    }


def bench_drift(repeat: int = 1) -> dict[str, float]:
    from ..gates import drift

    root = paths.repo_root()
    runs = []
    for _ in range(max(1, repeat)):
        report = drift.gate(root / "snapshots" / "schema.yaml", root / "db-init", root=root)
        if not report.clean:
            raise RuntimeError("the drift gate found drift: benchmark it on a clean tree")
        runs.append(report.timings["total"])
    return {"drift_gate_s": statistics.median(runs), "drift_gate_all": runs}


# The artifacts before the course model (issue 9 bounds the drift gate's growth against them).
DRIFT_BASELINE_REV = os.environ.get("TRM_BENCH_DRIFT_BASELINE", "550f919")


def bench_drift_growth(repeat: int = 3) -> dict[str, float]:
    """The drift gate on today's artifacts and on a baseline revision's, interleaved in one run."""
    import subprocess

    from ..gates import drift

    root = paths.repo_root()
    base = Path(tempfile.mkdtemp(prefix="trm-bench-baseline-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", DRIFT_BASELINE_REV, "snapshots", "db-init"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        now, then = [], []
        for _ in range(max(1, repeat)):
            for runs, where in ((then, base), (now, root)):
                report = drift.gate(where / "snapshots" / "schema.yaml", where / "db-init", root=root)
                if not report.clean:
                    raise RuntimeError(f"the drift gate found drift on {where}: benchmark clean artifacts")
                runs.append(report.timings["total"])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    console.out(f"drift gate: baseline {DRIFT_BASELINE_REV} {statistics.median(then):.1f}s, now {statistics.median(now):.1f}s")
    return {
        "drift_growth_ratio": statistics.median(now) / statistics.median(then),
        "drift_now_all": now,
        "drift_baseline_all": then,
    }


def bench_seed(repeat: int = 3) -> dict[str, float]:
    from ..directus.api import Directus
    from ..seed import loader, synthetic
    from ..seed import seed_file as document

    doc = document.load(paths.repo_root() / "seeds" / "rally-albania-2026.yaml")
    big = synthetic.event(entries=200)
    with NativeStack() as stack:
        api = Directus(stack.url, stack.info.admin_token)
        cold = _timed(lambda: loader.load(api, doc))
        noop = [_timed(lambda: loader.load(api, doc)) for _ in range(repeat)]
        t0 = time.monotonic()
        report = loader.load(api, big)
        big_s = time.monotonic() - t0
        console.out(
            f"200-entry event: {report.counts['entries'].created} entries created in {big_s:.1f}s ({report.requests} requests)"
        )
    return {"seed_cold_s": cold, "seed_noop_s": statistics.median(noop), "seed_200_entries_s": big_s, "seed_noop_all": noop}


def bench_course_import(repeat: int = 3) -> dict[str, float]:
    """The 7-stage rally into a fresh stack, then again (no-op); next to the Directus cost of the
    same rows measured in the same run: the import's 399 waypoint rows POSTed plain (one batch,
    into a scratch segment), 399 plain rows of a simple collection (classes), the import's GETs."""
    from ..course import exchange, remote, synthetic
    from ..directus.api import Directus
    from ..seed import loader
    from ..seed import synthetic as seed_synthetic

    files = Path(tempfile.mkdtemp(prefix="trm-bench-course-"))
    try:
        paths = synthetic.write_files(files)
        with NativeStack() as stack:
            api = Directus(stack.url, stack.info.admin_token)
            loader.load(api, seed_synthetic.event(entries=0, slug="course-bench"))
            event = api.get("/items/events", filter={"slug": {"_eq": "course-bench"}}, fields="id")[0]
            api.post("/items/waypoint_radius_defaults", [
                {"event_id": event["id"], "waypoint_type": t, "open_radius_m": o, "validation_radius_m": v}
                for t, (o, v) in synthetic.DEFAULTS.items()
            ])  # fmt: skip
            t0 = time.monotonic()
            report = exchange.import_files(api, paths, "course-bench")
            cold = time.monotonic() - t0
            console.out(report.render(items=False))
            noop = [_timed(lambda: exchange.import_files(api, paths, "course-bench")) for _ in range(repeat)]
            read = _timed(lambda: exchange.read_files(paths, None, synthetic.DEFAULTS, "course-bench"))
            names = [f"Stage {i}" for i in range(1, len(paths) + 1)]
            gets = statistics.median(_timed(lambda: remote.existing(api, event["id"], names)) for _ in range(repeat))
            wp_rows = [op.payload for op in report.plan.steps if op.collection == "waypoints" and op.action == "create"]
            stage = api.post("/items/stages", {"event_id": event["id"], "name": "scratch", "sort_order": 99}, fields="id")
            segment = api.post("/items/segments", {"stage_id": stage["id"], "sort_order": 0, "type": "liaison"}, fields="id")
            plain = [{**row, "segment_id": segment["id"], "sort_order": i, "code": f"B{i}"} for i, row in enumerate(wp_rows)]
            wp_post = _timed(lambda: api.post("/items/waypoints", plain, fields="id"))
            rows = [
                {"event_id": event["id"], "code": f"B-{i}", "name": f"Baseline {i}", "sort_order": i} for i in range(len(plain))
            ]
            classes_post = _timed(lambda: api.post("/items/classes", rows, fields="id"))
    finally:
        shutil.rmtree(files, ignore_errors=True)
    results = {
        "course_import_s": cold,
        "course_noop_s": statistics.median(noop),
        "course_base_wp_post_s": wp_post,
        "course_base_classes_s": classes_post,
        "course_read_s": read,
        "course_base_gets_s": gets,
        "course_noop_all": noop,
    }
    console.out(
        f"course import {cold:.1f}s = {cold / wp_post:.1f}x one plain POST of its {len(plain)} waypoint rows ({wp_post:.1f}s), "
        f"{cold / classes_post:.1f}x {len(rows)} plain class rows ({classes_post:.1f}s); no-op {results['course_noop_s']:.1f}s = "
        f"reading the files {read:.1f}s + the GETs {gets:.1f}s + the rest"
    )
    return results


def bench_timescale(repeat: int = 3) -> dict[str, float]:
    from .positions import bench_positions

    return bench_positions(repeat)


FLAG_SQL = "UPDATE positions SET faulty = %s WHERE device_id = %s AND ts >= %s AND ts < %s AND faulty IS DISTINCT FROM %s"


def bench_faulty(repeat: int = 3) -> dict[str, float]:
    from datetime import UTC, datetime, timedelta

    import psycopg

    from ..directus.api import Directus
    from ..processor import insert_positions, read_stream

    start = datetime(2026, 6, 8, 6, 0, tzinfo=UTC)
    window = {"from": start.isoformat(), "to": (start + timedelta(seconds=10_000)).isoformat()}
    with NativeStack() as stack:
        api = Directus(stack.url, stack.info.admin_token)
        imei = "356307042441013"
        api.post("/items/devices", {"imei": imei, "model": "Teltonika FMB920"})
        insert_positions(stack.info.dsn, imei, start - timedelta(hours=1), 10_000 + 7_200)  # the window and an hour each side
        runs, sql_runs = [], []
        for i in range(repeat * 2):  # alternate flag / clear so every run changes 10,000 rows
            t0 = time.monotonic()
            r = api.post("/trm/positions/faulty", {"imei": imei, **window, "faulty": i % 2 == 0, "reason": "bench"})
            seen = [m for _, m in read_stream(stack.redis.url, r["stream_id"] or "-") if m["request_id"] == r["request_id"]]
            runs.append(time.monotonic() - t0)
            assert r["rows_changed"] == 10_000 and seen, r
        with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
            for i in range(repeat * 2):
                sql_runs.append(
                    _timed(
                        lambda i=i: conn.execute(
                            FLAG_SQL,
                            (i % 2 == 0, imei, window["from"], window["to"], i % 2 == 0),
                        )
                    )
                )
    return {
        "faulty_10k_s": statistics.median(runs),
        "faulty_10k_sql_s": statistics.median(sql_runs),
        "faulty_10k_all": runs,
    }


def bench_timing(repeat: int = 3) -> dict[str, float]:
    from . import timing as bench

    return bench.bench(repeat=repeat)


def bench_stage_open(repeat: int = 3) -> dict[str, float]:
    from .stage_open import bench

    return bench(repeat=repeat)


def bench_upgrade(repeat: int = 1) -> dict[str, float]:
    """The upgrade gate, and the drift gate in the same run as its baseline (one each: minutes)."""
    from ..gates import drift
    from ..gates import upgrade as gate

    root = paths.repo_root()
    t0 = time.monotonic()
    clean = drift.gate(root / "snapshots" / "schema.yaml", root / "db-init", root=root).clean
    t1 = time.monotonic()
    passed = gate.gate(root).passed
    t2 = time.monotonic()
    if not (clean and passed):
        raise RuntimeError(f"drift gate clean: {clean}, upgrade gate passed: {passed}: benchmark a tree that passes both")
    console.out(f"upgrade gate {t2 - t1:.1f}s, drift gate {t1 - t0:.1f}s (same run): {(t2 - t1) / (t1 - t0):.2f}x")
    return {"upgrade_gate_s": t2 - t1, "upgrade_drift_gate_s": t1 - t0, "upgrade_drift_ratio": (t2 - t1) / (t1 - t0)}


def bench_commands(repeat: int = 1) -> dict[str, float]:
    from . import commands as bench_commands

    return bench_commands.bench(repeat=repeat)


def bench_access(repeat: int = 3) -> dict[str, float]:
    from . import access as bench_access

    return bench_access.bench(repeat=repeat)


def bench_preview(repeat: int = 3) -> dict[str, float]:
    from . import preview as bench_preview

    return bench_preview.bench(repeat=repeat)


BENCHMARKS: dict[str, Callable[..., dict[str, float]]] = {
    "install-cold": bench_install_cold,
    "boot": bench_boot,
    "drift": bench_drift,
    "drift-growth": bench_drift_growth,
    "drift-floor": bench_drift_floor.bench,
    "seed": bench_seed,
    "course-import": bench_course_import,
    "timescale": bench_timescale,
    "faulty": bench_faulty,
    "timing": bench_timing,
    "stage-open": bench_stage_open,
    "access": bench_access,
    "upgrade": bench_upgrade,
    "commands": bench_commands,
    "scale": bench_scale.bench,
    "backup": bench_backup.bench,
    "preview": bench_preview,
}


def run(names: list[str], repeat: int = 3) -> dict[str, object]:
    results: dict[str, object] = {}
    for name in names:
        with console.step(f"benchmark {name}"):
            results.update(BENCHMARKS[name](repeat=repeat))
    report(results)
    out = paths.repo_root() / "reports" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()).get("results", {}) if out.exists() else {}
    document = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "results": {**previous, **results},
    }  # the latest figure of every benchmark run so far
    out.write_text(json.dumps(document, indent=2) + "\n")
    console.out(f"written to {out}")
    return results


def report(results: dict[str, object]) -> None:
    width = max([24, *(len(k) for k in results if k in TARGETS)])
    console.out(f"{'measure':<{width}} {'value':>9}  {'target':>8}  verdict  what (seconds unless named)")
    for key, (target, what) in TARGETS.items():
        if key not in results:
            continue
        value = float(results[key])  # type: ignore[arg-type]
        rate = key.endswith(("_per_s", "_speedup"))  # a minimum, not a maximum
        verdict = (
            "-" if target is None else ("ok" if (value >= target if rate else value <= target) else ("UNDER" if rate else "OVER"))
        )
        target_text = f"{'>=' if rate else '<='} {target:g}" if target is not None else ""
        console.out(f"{key:<{width}} {value:>9.2f}  {target_text:>8}  {verdict:<7}  {what}")
    for key, value in results.items():
        if key.endswith("_all"):
            console.out(f"  {key}: {', '.join(f'{v:.2f}' for v in value)}")  # type: ignore[union-attr]
