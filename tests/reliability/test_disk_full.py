"""The dev stack's disk fills up: PostgreSQL (durable, as a dev stack runs it) on a size-limited tmpfs.

Safe to run here because the "disk" is a private tmpfs of 96 MB mounted on a fresh temporary
directory for this test only (needs root to mount; skipped with the reason otherwise).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from trm_directus.services.postgres import PostgresCluster

pytestmark = pytest.mark.integration

SIZE_MB = 96


def mount_tmpfs() -> Path:
    where = Path(tempfile.mkdtemp(prefix="trm-diskfull-"))
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0755", "trm-diskfull", str(where)], capture_output=True, text=True
    )
    if result.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a size-limited tmpfs here ({result.stderr.strip()}): the disk-full fault needs it")
    return where


def fill(path: Path) -> int:
    """Write a ballast file until the filesystem is full; its size in bytes."""
    written = 0
    chunk = b"\0" * (1 << 20)
    with open(path, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
                written += len(chunk)
        except OSError:
            pass
    return written


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
@pytest.mark.fault("disk full under the dev stack's database")
def test_a_full_disk_fails_writes_and_loses_nothing_committed(fault_report):
    mnt = mount_tmpfs()
    cluster = None
    try:
        cluster = PostgresCluster(mnt, durable=True)
        cluster.start()
        dsn = cluster.create_database("dev")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int PRIMARY KEY, payload text NOT NULL)")
            conn.execute("INSERT INTO kept SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g")
        ballast = mnt / "ballast"
        filled = fill(ballast)
        errors = []
        crashed = False
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                for i in range(50):  # big enough to need new pages and WAL
                    try:
                        conn.execute(
                            "INSERT INTO kept SELECT g, repeat('y', 2000) FROM generate_series(%s::int, %s::int) g",
                            (10000 + i * 1000, 10999 + i * 1000),
                        )
                    except psycopg.Error as exc:
                        errors.append(str(exc).strip().splitlines()[0])
                        if conn.broken or conn.closed:
                            crashed = True
                            break
        except psycopg.OperationalError as exc:
            errors.append(str(exc).strip().splitlines()[0])
            crashed = True
        assert errors, "the inserts never hit the full disk"
        assert "No space left on device" in " ".join(errors), errors
        still_up = cluster.running()
        ballast.unlink()
        t0 = time.monotonic()
        if not still_up or crashed:
            cluster.start()
        recovered = time.monotonic() - t0
        with psycopg.connect(dsn, autocommit=True) as conn:
            kept = conn.execute("SELECT count(*), min(id), max(id) FROM kept WHERE id <= 2000").fetchone()
            conn.execute("INSERT INTO kept VALUES (3000, 'after the disk was freed')")
            total = conn.execute("SELECT count(*) FROM kept").fetchone()[0]
        assert kept == (2000, 1, 2000)
        fault_report.outcome = (
            f"{SIZE_MB} MB disk filled ({filled >> 20} MB ballast): insert failed with '{errors[0][:90]}'; server "
            f"{'stayed up' if still_up and not crashed else f'stopped, restarted after space was freed ({recovered:.1f}s)'}"
            f"; all 2000 committed rows intact, writes work again ({total} rows)"
        )
        fault_report.data_lost = "none (only the failed statements' rows are absent)"
    finally:
        if cluster is not None:
            cluster.stop()
        subprocess.run(["umount", str(mnt)], capture_output=True)
        if not os.path.ismount(mnt):
            mnt.rmdir()
