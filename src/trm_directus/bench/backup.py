"""bench backup (issue #26): back up and restore Rally Albania at full size; the recovery point of committed writes.

Setup (not timed): a durable dev-like stack (fsync on, WAL archived with the default
archive_timeout) with the timing benchmark's event — 230 entries, 7 stages, rules — race-day rows,
and a week of positions of the 230 devices: 1 Hz sampled down to one every SAMPLE_SECONDS (10 s:
13,910,400 rows, a ~10 GB disk budget for the database, its copy and the repository at once;
TRM_BENCH_BACKUP_SAMPLE_S changes it), written in one INSERT … SELECT per day.
Timed: a full backup; then `repeat` times: a writer commits one row every 0.1 s while the
postmaster is killed (kill -9) at a random moment 2–3 × archive_timeout later, the data directory
is deleted and `restore` runs to a healthy Directus. The recovery point is the time between the
last row the writer saw committed and the last row the restored database has (the worst of the
runs is reported). Baseline in the same run: `cp -a` of the live data directory (the same bytes,
uncompressed, no pgBackRest).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from .. import console
from ..backup import repo as pgbr
from ..backup import stack as backups
from ..directus.api import Directus
from ..gates import race_data
from ..services import proc
from ..stacks.native import NativeStack

SAMPLE_SECONDS = int(os.environ.get("TRM_BENCH_BACKUP_SAMPLE_S") or 10)
DAYS = 7
TARGETS: dict[str, tuple[float | None, str]] = {
    "backup_positions_rows": (None, f"positions in the database: 230 devices × {DAYS} days, one per {SAMPLE_SECONDS} s (rows)"),
    "backup_db_mib": (None, "database size (MiB, pg_database_size)"),
    "backup_repo_mib": (None, "pgBackRest repository after the full backup and the WAL since (MiB)"),
    "backup_full_s": (None, "full backup (zstd level 3, 2 processes)"),
    "backup_copy_floor_s": (None, "baseline, same run: cp -a of the data directory"),
    "backup_restore_s": (600.0, "restore after the data directory is gone, to healthy Directus (median of the runs)"),
    "backup_restore_ratio": (None, "restore / cp -a of the data directory (×, not seconds)"),
    "backup_recovery_point_s": (60.0, "committed writes lost: last committed row → last restored row (worst run)"),
    "backup_recovery_point_best_s": (None, "the same, best run (the kill falls at a random phase of the WAL switch)"),
    "backup_load_average": (None, "1-minute load average, mean of the start and the end"),
}

POSITIONS_DAY = """
INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
SELECT d.imei, %(day)s::timestamptz + make_interval(secs => %(every)s * n), '8E', 41.3 + mod(n, 997) * 1e-4,
       19.8 + mod(n, 991) * 1e-4, 120, mod(n, 360), mod(n, 130), 12, 0
  FROM (SELECT DISTINCT d.imei FROM devices d JOIN entry_devices ed ON ed.device_id = d.id) d
 CROSS JOIN generate_series(0, 86400 / %(every)s - 1) AS n
"""
PROBE = """INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
           VALUES ('rpo-probe', clock_timestamp(), '8E', 41, 19, 0, 0, 0, 0, 0) RETURNING ts"""


def du_mib(path: Path) -> float:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 2**20


def setup(stack: NativeStack) -> int:
    from . import timing as timing_bench

    api = Directus(stack.url, stack.info.admin_token)
    world = timing_bench.setup(api, stack.info.dsn)
    race_data.write(stack.info.dsn)
    day0 = "2026-06-06T00:00:00Z"
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        for day in range(DAYS):
            with console.step(f"positions of day {day + 1}/{DAYS} (230 devices, one per {SAMPLE_SECONDS} s)"):
                start = conn.execute("SELECT %s::timestamptz + make_interval(days => %s)", (day0, day)).fetchone()[0]
                conn.execute(POSITIONS_DAY, {"day": start, "every": SAMPLE_SECONDS})
        conn.execute("VACUUM ANALYZE positions")
        rows = conn.execute("SELECT count(*) FROM positions").fetchone()[0]
    console.info(f"{len(world['entries'])} entries, {rows:,} positions")
    return rows


class Prober(threading.Thread):
    """Commit one row every 0.1 s until the server goes away; remember the last one committed."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.last = dsn, None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while True:
                    self.last = conn.execute(PROBE).fetchone()[0]
                    time.sleep(0.1)
        except psycopg.Error:
            return  # the server was killed: the last committed row is known


def bench(repeat: int = 1) -> dict[str, Any]:
    if not pgbr.available():
        raise RuntimeError(pgbr.INSTALL_HINT)
    load0 = os.getloadavg()[0]
    state = Path(tempfile.mkdtemp(prefix="trm-bench-backup-"))
    stack = NativeStack(state / "stack", persistent=True, backups=True)
    try:
        stack.start()
        rows = setup(stack)
        with psycopg.connect(stack.info.dsn) as conn:
            db_mib = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
        t0 = time.monotonic()
        backups.backup_now(stack, "full")
        full_s = time.monotonic() - t0
        copy = Path(tempfile.mkdtemp(prefix="trm-bench-copy-", dir=stack.postgres.pg_dir.parent))
        t0 = time.monotonic()
        proc.run(["cp", "-a", str(stack.postgres.data_dir), str(copy / "data")], step="cp -a data directory", timeout=1800)
        copy_s = time.monotonic() - t0
        shutil.rmtree(copy)
        repo_mib = du_mib(Path(stack.info.backup_repo))
        runs = [kill_and_restore(stack, rows) for _ in range(max(1, repeat))]
    finally:
        stack.stop(purge=True)
        shutil.rmtree(state, ignore_errors=True)
    restores, lost = sorted(r[0] for r in runs), [r[1] for r in runs]
    return {
        "backup_positions_rows": rows,
        "backup_db_mib": db_mib,
        "backup_repo_mib": repo_mib,
        "backup_full_s": full_s,
        "backup_copy_floor_s": copy_s,
        "backup_restore_s": statistics.median(restores),
        "backup_restore_ratio": statistics.median(restores) / copy_s,
        "backup_recovery_point_s": max(lost),
        "backup_recovery_point_best_s": min(lost),
        "backup_load_average": (load0 + os.getloadavg()[0]) / 2,
    }


def kill_and_restore(stack: NativeStack, rows: int) -> tuple[float, float]:
    """Writes going on, kill -9 at a random phase of the WAL switch, the data directory deleted, restore:
    (seconds to a healthy Directus, seconds of committed writes lost)."""
    timeout = int(os.environ.get(pgbr.ARCHIVE_TIMEOUT_SETTING) or pgbr.ARCHIVE_TIMEOUT)
    prober = Prober(stack.info.dsn)
    prober.start()
    time.sleep(2 * timeout + random.uniform(0, timeout))
    pid = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, 9)
    prober.join(timeout=30)
    committed = prober.last
    while stack.postgres.running():
        time.sleep(0.1)
    shutil.rmtree(stack.postgres.data_dir)
    t0 = time.monotonic()
    backups.restore_in_place(stack)
    restore_s = time.monotonic() - t0
    with psycopg.connect(stack.info.dsn) as conn:
        restored = conn.execute("SELECT max(ts) FROM positions WHERE device_id = 'rpo-probe'").fetchone()[0]
        after_rows = conn.execute("SELECT count(*) FROM positions WHERE device_id <> 'rpo-probe'").fetchone()[0]
    if after_rows != rows or restored is None or committed is None:
        raise RuntimeError(f"restored {after_rows:,} positions of {rows:,}, last probe row {restored} (committed {committed})")
    lost_s = (committed - restored).total_seconds()
    console.info(f"last committed {committed:%H:%M:%S.%f}, last restored {restored:%H:%M:%S.%f}: {lost_s:.1f}s lost")
    return restore_s, lost_s
