"""Boot steps 1-4 under the boot lock (image/entrypoint.sh -> boot-steps) with stand-in step commands.

The real steps (db-init, Directus bootstrap, schema apply) on three concurrent boots are in
tests/reliability/test_instances.py (`stack up --instances 3` on an empty database).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, db_env
from trm_directus.db.locks import BOOT_LOCK_ID

pytestmark = pytest.mark.integration

ENTRYPOINT = REPO / "image" / "entrypoint.sh"


def step(trace: Path, name: str, seconds: float = 0) -> str:
    """A stand-in step that records when it started and ended (which boot, name, wall clock)."""
    sleep = f"sleep {seconds}; " if seconds else ""
    boot = "${BOOT_ID:-0}"
    return f'echo "{boot} start {name} $EPOCHREALTIME" >> {trace}; {sleep}echo "{boot} end {name} $EPOCHREALTIME" >> {trace}'


def env_for(dsn: str, trace: Path, *, seconds: float = 0, **overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        **db_env(dsn),
        "TRM_PYTHON": sys.executable,
        "TRM_CMD_PREFLIGHT": "true",
        "TRM_CMD_MIGRATE_PRE": step(trace, "pre", seconds),
        "TRM_CMD_BOOTSTRAP": step(trace, "bootstrap", seconds),
        "TRM_CMD_SCHEMA_APPLY": step(trace, "apply", seconds),
        "TRM_CMD_MIGRATE_POST": step(trace, "post", seconds),
        "TRM_CMD_START": f"echo started >> {trace}",
        **overrides,
    }


def boot(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ENTRYPOINT)], capture_output=True, text=True, env=env, timeout=timeout)


def markers(output: str) -> list[str]:
    return [ln.split("] ", 1)[1].split(" done in")[0] for ln in output.splitlines() if ln.startswith("[entrypoint]")]


def names(trace: Path) -> list[str]:
    return [ln.split()[2] if " start " in ln else ln.strip() for ln in trace.read_text().splitlines() if " end " not in ln]


def test_steps_run_in_the_fixed_order_with_markers(fresh_db, tmp_path):
    result = boot(env_for(fresh_db, tmp_path / "trace"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert names(tmp_path / "trace") == ["pre", "bootstrap", "apply", "post", "started"]
    assert markers(result.stdout)[:9] == [
        "preflight",
        "1/5 db-init pre-schema",
        "1/5 db-init pre-schema",
        "2/5 bootstrap",
        "2/5 bootstrap",
        "3/5 schema apply",
        "3/5 schema apply",
        "4/5 db-init post-schema",
        "4/5 db-init post-schema",
    ]
    assert markers(result.stdout)[9].startswith("5/5 start")
    assert f"boot lock {BOOT_LOCK_ID} taken" in result.stderr


def test_a_failing_step_halts_the_boot_and_names_the_step(fresh_db, tmp_path):
    result = boot(env_for(fresh_db, tmp_path / "trace", TRM_CMD_SCHEMA_APPLY="exit 7"))
    assert result.returncode == 7
    assert "[entrypoint] FAILED at step 3/5 (schema apply) with exit code 7" in result.stdout
    assert "Directus was not started" in result.stdout
    assert names(tmp_path / "trace") == ["pre", "bootstrap"]
    # the lock was released with the failure: a next boot takes it at once
    again = boot(env_for(fresh_db, tmp_path / "trace2"), timeout=20)
    assert again.returncode == 0 and "waiting for the boot lock" not in again.stderr


def test_failing_first_step_never_reaches_start(fresh_db, tmp_path):
    result = boot(env_for(fresh_db, tmp_path / "trace", TRM_CMD_MIGRATE_PRE="false"))
    assert result.returncode == 1
    assert "FAILED at step 1/5 (db-init pre-schema)" in result.stdout
    assert not (tmp_path / "trace").exists()


def test_concurrent_boots_run_steps_1_to_4_one_boot_at_a_time(fresh_db, tmp_path):
    """Four entrypoints at once: the four-step blocks of different boots never overlap."""
    trace = tmp_path / "trace"
    procs = [
        subprocess.Popen(
            ["bash", str(ENTRYPOINT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env_for(fresh_db, trace, seconds=0.3), "BOOT_ID": str(i)},
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    blocks: dict[str, list[float]] = {}
    for line in trace.read_text().splitlines():
        if line == "started":
            continue
        boot_id, _, _, at = line.split()
        blocks.setdefault(boot_id, []).append(float(at))
    spans = sorted((min(t), max(t)) for t in blocks.values())
    assert len(spans) == 4 and all(len(t) == 8 for t in blocks.values())
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    assert overlaps == [], f"boot steps of different boots ran at the same time: {overlaps}"
    waited = [err for _, err in outputs if "waiting for the boot lock" in err]
    assert len(waited) >= 2 and all("held by pid" in err and "trm-boot-steps" in err for err in waited)
    assert sum("each step re-checks the database" in err for _, err in outputs) == 3


def test_a_held_boot_lock_ends_the_wait_by_its_deadline_naming_the_holder(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True, application_name="stuck-operator-session") as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (BOOT_LOCK_ID,))
        pid = holder.info.backend_pid
        t0 = time.monotonic()
        result = boot(env_for(fresh_db, tmp_path / "trace", TRM_BOOT_LOCK_TIMEOUT_SECONDS="2"), timeout=30)
        took = time.monotonic() - t0
    assert result.returncode == 1
    assert 2 <= took < 15
    assert "[entrypoint] FAILED before step 1/5: the boot lock was not free in time" in result.stdout
    assert f"gave up waiting for the boot lock {BOOT_LOCK_ID} after 2s (TRM_BOOT_LOCK_TIMEOUT_SECONDS)" in result.stderr
    assert f"held by pid {pid} (stuck-operator-session; idle" in result.stderr
    assert "SELECT pg_advisory_lock" in result.stderr
    assert not (tmp_path / "trace").exists()


def test_a_boot_killed_while_holding_the_lock_does_not_block_the_next(fresh_db, tmp_path):
    trace = tmp_path / "trace"
    first = subprocess.Popen(
        ["bash", str(ENTRYPOINT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env_for(fresh_db, trace, seconds=30),
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while not (trace.exists() and "start pre" in trace.read_text()):
        assert time.monotonic() < deadline, "the first boot never reached step 1"
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    t0 = time.monotonic()
    second = boot(env_for(fresh_db, tmp_path / "trace2"), timeout=30)
    assert second.returncode == 0, second.stdout + second.stderr
    assert time.monotonic() - t0 < 10
