"""Faults at boot without Directus: the database is down, a migration is killed with kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from tests.conftest import REPO, next_db_init_file, query, run_cli
from trm_directus.dbinit.discovery import discover
from trm_directus.dbinit.ledger import LEDGER
from trm_directus.services.proc import free_port

pytestmark = pytest.mark.integration

ENTRYPOINT = REPO / "image" / "entrypoint.sh"


@pytest.mark.fault("database down at boot")
def test_database_down_at_boot_fails_by_the_deadline_and_never_starts_directus(tmp_path, fault_report):
    env = {
        **os.environ,
        "TRM_PYTHON": sys.executable,
        "TRM_DB_INIT_DIR": str(REPO / "db-init"),
        "TRM_DEV_MODE": "true",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(free_port()),  # nothing listens there
        "DB_PASSWORD": "s3cret-never-printed",
        "DB_INIT_TIMEOUT_SECONDS": "3",
        "TRM_CMD_START": f"touch {tmp_path / 'started'}",
    }
    t0 = time.monotonic()
    boot = subprocess.run(["bash", str(ENTRYPOINT)], capture_output=True, text=True, env=env, timeout=120)
    took = time.monotonic() - t0
    assert boot.returncode == 1
    assert 3 <= took < 30
    assert "[entrypoint] FAILED before step 1/5: the database did not answer; Directus was not started" in boot.stdout
    assert "did not answer within 3s" in boot.stderr and "DB_INIT_TIMEOUT_SECONDS" in boot.stderr
    assert "s3cret-never-printed" not in boot.stdout + boot.stderr
    assert not (tmp_path / "started").exists()
    fault_report.outcome = (
        f"boot exits 1 after {took:.1f}s (deadline DB_INIT_TIMEOUT_SECONDS=3): 'FAILED before step 1/5: the database "
        "did not answer', password masked; Directus not started"
    )
    fault_report.data_lost = "none (nothing was written)"


SLOW_FILE = """CREATE TABLE half_done (x int);
INSERT INTO half_done VALUES (1);
-- sleeps only while the fault injector's session is connected (the file itself never changes)
SELECT pg_sleep(CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'fault-injector')
                     THEN 60 ELSE 0 END);
"""


@pytest.mark.fault("kill -9 during a migration")
def test_kill_9_during_a_migration_leaves_nothing_partial_and_the_next_run_applies_it(fresh_db, db_init_copy, fault_report):
    committed = [f.name for f in discover(db_init_copy)]
    slow = next_db_init_file(db_init_copy, "slow")
    slow.write_text(SLOW_FILE)
    with psycopg.connect(fresh_db, autocommit=True, application_name="fault-injector") as injector:
        migrate = subprocess.Popen(
            [sys.executable, "-m", "trm_directus", "migrate", "--dsn", fresh_db, "--dir", str(db_init_copy)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TRM_TIMESCALEDB": "optional"},
            cwd=REPO,
        )
        sleeping = "SELECT pid FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(CASE%%' AND pid <> pg_backend_pid()"
        deadline = time.monotonic() + 60
        while not injector.execute(sleeping).fetchall():
            assert migrate.poll() is None and time.monotonic() < deadline, "the migration never reached its slow statement"
            time.sleep(0.1)
        os.kill(migrate.pid, signal.SIGKILL)
        migrate.wait()
        killed = time.monotonic()
        # The server notices the dead client mid-statement (client_connection_check_interval) and rolls back.
        while injector.execute(sleeping).fetchall():
            assert time.monotonic() - killed < 15, "the killed runner's statement is still running"
            time.sleep(0.1)
        noticed = time.monotonic() - killed
    applied = [r[0] for r in query(fresh_db, f"SELECT file_name FROM {LEDGER} ORDER BY phase = 'post', number")]
    assert applied == committed  # the files before it were each committed; the killed one is not there
    assert query(fresh_db, "SELECT to_regclass('half_done')")[0][0] is None  # nothing partial
    t0 = time.monotonic()
    again = run_cli("migrate", "--dsn", fresh_db, "--dir", str(db_init_copy))
    assert again.returncode == 0, again.stderr
    assert "db-init pre: 1 applied" in again.stdout and "waiting for the db-init lock" not in again.stderr
    assert query(fresh_db, "SELECT count(*) FROM half_done")[0][0] == 1
    fault_report.outcome = (
        f"server rolled {slow.name} back {noticed:.1f}s after the kill and freed the lock; the next run applied it once "
        f"({time.monotonic() - t0:.1f}s); the {len(committed)} files committed before it kept"
    )
    fault_report.data_lost = "none (the killed file left no trace; it ran again)"
