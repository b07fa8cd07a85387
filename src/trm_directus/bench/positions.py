"""The positions benchmark: the processor's batch insert and window read, hypertable vs plain table.

One cluster (durable: fsync on, as production), one database migrated by db-init in required
mode: `positions` is the hypertable with 1-day chunks, `positions_plain` a plain copy of it
(`LIKE … INCLUDING ALL`: same columns, defaults and indexes). One million positions of 230
devices over 8 days arrive in time order, devices interleaved, as the processor receives them; it
writes batches of BATCH rows with one `INSERT … SELECT FROM unnest(…) ON CONFLICT (device_id, ts)
DO NOTHING` each (one transaction per batch), and every 50th batch is delivered twice (a consumer
restart). Each column travels as one array literal, built before the clock starts: the figure is
the database's (round trip, array parsing, heap, three indexes, WAL), not Python's list adaptation
(psycopg spends ~20 ms per 1,000-element list).

First WRITERS connections write at once, each taking every WRITERS-th batch, as the processor's
consumers do (one per core), `repeat` times into fresh tables of both kinds in turn; the median is
the figure, the slowest and fastest run beside it. Each run starts after a VACUUM and a CHECKPOINT,
outside the clock, so no run shares the cores with the autovacuum of the rows written before it.
Then one writer feeds the two tables in turn, batch by batch, so both see the same machine load;
the server backend's CPU time per row is reported too, because on a shared machine the wall rate
mostly measures the other tenants. The server's ~35 µs of CPU per row (array parsing ~7, heap ~7,
the unique index with ON CONFLICT ~11, the two other indexes ~6, measured here) caps one writer
near 30k rows/s, so the throughput target is a property of parallel writers. Then the processor's
hot read — one device's non-faulty positions in a one-hour window — on both, alternating.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from .. import console, paths
from ..boot import db_init
from ..errors import StackError
from ..services import timescaledb
from ..services.postgres import PostgresCluster

DEVICES = 230
DAYS = 8
ROWS = 1_000_000
BATCH = 1_000
REDELIVER_EVERY = 50
READS = 200
WRITERS = 2  # the processor's consumer group: one writer per core of this machine class
DAY0 = datetime(2026, 6, 6, tzinfo=UTC)
TABLES = ("positions", "positions_plain")
COLUMNS = "device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority, attributes"
UNNEST = (
    "unnest(%s::text[], %s::timestamptz[], %s::text[], %s::float8[], %s::float8[], %s::real[], %s::real[],"
    " %s::real[], %s::smallint[], %s::smallint[], %s::jsonb[])"
)
READ = (
    "SELECT ts, latitude, longitude, speed FROM {table}"
    " WHERE device_id = %s AND ts >= %s AND ts < %s AND faulty = false ORDER BY ts"
)


def imei(device: int) -> str:
    return f"35630704{device:07d}"


def array_literal(values: list) -> str:
    """A PostgreSQL array literal with every element quoted (jsonb elements hold quotes and commas)."""
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU of a local server process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def batches(rows: int = ROWS, devices: int = DEVICES, days: int = DAYS) -> Iterator[list[str]]:
    """BATCH positions at a time as 11 column array literals, in arrival order: every device reports
    once per step."""
    rnd = random.Random(2026)
    steps = math.ceil(rows / devices)
    interval = timedelta(days=days) / steps
    attributes = [json.dumps({"io": {"239": i % 2, "240": 1, "66": 12000 + i, "16": 1000 * i}}) for i in range(16)]
    cols: list[list] = [[] for _ in range(11)]
    for n in range(rows):
        step, device = divmod(n, devices)
        row = (
            imei(device),
            DAY0 + step * interval + device * interval / devices,
            "8E",
            41.0 + rnd.random(),
            19.5 + rnd.random(),
            100 + 900 * rnd.random(),
            360 * rnd.random(),
            120 * rnd.random(),
            rnd.randint(4, 14),
            0,
            attributes[n % 16],
        )
        for col, value in zip(cols, row, strict=True):
            col.append(value)
        if len(cols[0]) == BATCH:
            yield [array_literal(col) for col in cols]
            cols = [[] for _ in range(11)]
    if cols[0]:
        yield [array_literal(col) for col in cols]


def prepare(dsn: str) -> None:
    db_init.runner(dsn, paths.repo_root() / "db-init", env={"TRM_TIMESCALEDB": "required"}).migrate("pre")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE positions_plain (LIKE positions INCLUDING ALL)")


def fresh_copy(dsn: str, table: str, name: str) -> None:
    """An empty copy of `table` (a hypertable like `positions` when it is one), after a VACUUM and a
    CHECKPOINT outside the clock: every parallel run starts with no autovacuum work left by the run
    before it and the same WAL state."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING ALL)")
        if table == "positions":
            conn.execute(f"SELECT create_hypertable('{name}', 'ts', chunk_time_interval => INTERVAL '1 day')")
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def insert_parallel(dsn: str, table: str, writers: int = WRITERS) -> float:
    """Wall seconds for every batch written to `table` by `writers` connections at once."""
    sql = f"INSERT INTO {table} ({COLUMNS}) SELECT * FROM {UNNEST} ON CONFLICT (device_id, ts) DO NOTHING"
    all_batches = list(batches())
    errors: list[BaseException] = []

    def write(part: list[list[str]]) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for cols in part:
                    conn.execute(sql, cols)
        except BaseException as exc:  # reported by the caller: a thread cannot raise into it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(all_batches[w::writers],)) for w in range(writers)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = time.perf_counter() - t0
    if errors:
        raise StackError(f"{table}: a parallel writer failed: {errors[0]}")
    with psycopg.connect(dsn) as conn:
        written = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if written != ROWS:
        raise StackError(f"{table}: {written} rows written by {writers} writers, expected {ROWS}")
    return spent


def insert_all(dsn: str) -> tuple[dict[str, float], dict[str, float]]:
    """Feed every batch to both tables in turn: wall seconds and server CPU seconds per table."""
    spent = dict.fromkeys(TABLES, 0.0)
    cpu = dict.fromkeys(TABLES, 0.0)
    written = dict.fromkeys(TABLES, 0)
    sql = {t: f"INSERT INTO {t} ({COLUMNS}) SELECT * FROM {UNNEST} ON CONFLICT (device_id, ts) DO NOTHING" for t in TABLES}
    with psycopg.connect(dsn, autocommit=True) as conn:
        backend = conn.info.backend_pid
        for i, cols in enumerate(batches()):
            deliveries = 2 if i % REDELIVER_EVERY == REDELIVER_EVERY - 1 else 1
            for table in TABLES if i % 2 == 0 else TABLES[::-1]:
                c0, t0 = backend_cpu_seconds(backend), time.perf_counter()
                for _ in range(deliveries):
                    written[table] += conn.execute(sql[table], cols).rowcount
                spent[table] += time.perf_counter() - t0
                cpu[table] += backend_cpu_seconds(backend) - c0
            if (i + 1) % 200 == 0:
                console.info(f"   {(i + 1) * BATCH:,} positions written to both tables")
        conn.execute("ANALYZE positions; ANALYZE positions_plain")
    for table in TABLES:
        if written[table] != ROWS:
            raise StackError(f"{table}: {written[table]} rows written, expected {ROWS} (duplicates must be skipped)")
    return spent, cpu


def read_windows(dsn: str, repeat: int) -> dict[str, list[float]]:
    """Milliseconds of READS one-hour windows of one device (warm: the same windows once before)."""
    rnd = random.Random(7)
    last_start = (DAYS * 24 - 1) * 60
    windows = [(imei(rnd.randrange(DEVICES)), DAY0 + timedelta(minutes=rnd.randrange(last_start))) for _ in range(READS)]
    times: dict[str, list[float]] = {t: [] for t in TABLES}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for measured in [False] + [True] * max(1, repeat):
            for device, start in windows:
                for table in TABLES:
                    t0 = time.perf_counter()
                    rows = conn.execute(READ.format(table=table), (device, start, start + timedelta(hours=1))).fetchall()
                    if measured:
                        times[table].append((time.perf_counter() - t0) * 1000)
                    if not rows:
                        raise StackError(f"{table}: no positions of {device} after {start} (the data generator is wrong)")
        device, start = windows[0]
        plan = conn.execute("EXPLAIN " + READ.format(table="positions"), (device, start, start + timedelta(hours=1)))
        console.info("   hypertable window read plan:\n" + "\n".join(f"     {r[0]}" for r in plan.fetchall()))
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def bench_positions(repeat: int = 3) -> dict[str, float]:
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="trm-bench-positions-")), durable=True)
    if not timescaledb.available(cluster.bindir):
        raise StackError(f"TimescaleDB is not installed for {cluster.bindir.parent}", timescaledb.INSTALL_HINT)
    try:
        cluster.start()
        dsn = cluster.create_database("positions_bench")
        prepare(dsn)
        load_before = os.getloadavg()[0]
        runs = max(1, repeat)
        parallel: dict[str, list[float]] = {t: [] for t in TABLES}
        with console.step(f"{ROWS:,} positions by {WRITERS} writers at once, x {runs} into fresh tables, both kinds in turn"):
            for i in range(runs):
                for table in TABLES if i % 2 == 0 else TABLES[::-1]:
                    fresh_copy(dsn, table, f"{table}_parallel_{i}")
                    parallel[table].append(ROWS / insert_parallel(dsn, f"{table}_parallel_{i}"))
                console.info(
                    f"   run {i + 1}: hypertable {parallel['positions'][-1]:,.0f} rows/s, "
                    f"plain {parallel['positions_plain'][-1]:,.0f} rows/s"
                )
        with console.step(f"the same {ROWS:,} positions by one writer into both tables, batch by batch in turn"):
            spent, cpu = insert_all(dsn)
        load_after = os.getloadavg()[0]
        with console.step(f"{READS} one-hour window reads x {max(1, repeat)} on both tables"):
            reads = read_windows(dsn, repeat)
        with psycopg.connect(dsn) as conn:
            chunks = conn.execute(
                "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'positions'"
            ).fetchone()[0]
    finally:
        cluster.destroy()
    hyper, plain = (ROWS / spent[t] for t in TABLES)
    read_hyper, read_plain = (p95(reads[t]) for t in TABLES)
    return {
        "positions_insert_hypertable_parallel_per_s": statistics.median(parallel["positions"]),
        "positions_insert_hypertable_parallel_min_per_s": min(parallel["positions"]),
        "positions_insert_hypertable_parallel_max_per_s": max(parallel["positions"]),
        "positions_insert_plain_parallel_per_s": statistics.median(parallel["positions_plain"]),
        "positions_insert_hypertable_per_s": hyper,
        "positions_insert_plain_per_s": plain,
        "positions_insert_ratio": hyper / plain,
        "positions_read_hypertable_p95_ms": read_hyper,
        "positions_read_plain_p95_ms": read_plain,
        "positions_read_ratio": read_hyper / read_plain,
        "positions_read_hypertable_p50_ms": statistics.median(reads["positions"]),
        "positions_read_plain_p50_ms": statistics.median(reads["positions_plain"]),
        "positions_insert_hypertable_cpu_us_per_row": cpu["positions"] / ROWS * 1e6,
        "positions_insert_plain_cpu_us_per_row": cpu["positions_plain"] / ROWS * 1e6,
        "positions_chunks": chunks,
        "positions_load_average": (load_before + load_after) / 2,
    }
