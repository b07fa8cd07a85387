"""Every wait has a deadline and names what it waited for: the db-init lock, a table lock, a slow
statement, a hanging Directus CLI (deadlines.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import db_env, next_db_init_file, query, run_cli
from trm_directus.dbinit.ledger import LEDGER
from trm_directus.dbinit.runner import ADVISORY_LOCK_ID

pytestmark = pytest.mark.integration


def migrate(dsn: str, db_init: Path, timeout: float = 60, **env: str):
    return run_cli("migrate", "--dsn", dsn, "--dir", str(db_init), env=env, timeout=timeout)


def test_a_held_db_init_lock_ends_the_wait_naming_the_holder(fresh_db, db_init_copy):
    with psycopg.connect(fresh_db, autocommit=True, application_name="someone-else") as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_ID,))
        t0 = time.monotonic()
        cli = migrate(fresh_db, db_init_copy, DB_INIT_LOCK_TIMEOUT_SECONDS="2")
        took = time.monotonic() - t0
        pid = holder.info.backend_pid
    assert cli.returncode == 1
    assert 2 <= took < 20
    assert f"gave up waiting for the db-init lock {ADVISORY_LOCK_ID} after 2s (DB_INIT_LOCK_TIMEOUT_SECONDS)" in cli.stderr
    assert f"held by pid {pid} (someone-else; idle for" in cli.stderr and "SELECT pg_advisory_lock" in cli.stderr
    assert query(fresh_db, "SELECT to_regclass(%s)", (LEDGER,))[0][0] is None


def test_a_locked_table_fails_the_file_after_lock_timeout_naming_the_holder(fresh_db, db_init_copy):
    assert migrate(fresh_db, db_init_copy).returncode == 0
    added = next_db_init_file(db_init_copy, "add_column")
    added.write_text("ALTER TABLE positions ADD COLUMN note text;\n")
    with psycopg.connect(fresh_db, application_name="report-export") as holder:
        holder.execute("LOCK TABLE positions IN ACCESS SHARE MODE")  # a long read, e.g. an export
        t0 = time.monotonic()
        cli = migrate(fresh_db, db_init_copy, DB_INIT_TABLE_LOCK_TIMEOUT_SECONDS="2")
        took = time.monotonic() - t0
        pid = holder.info.backend_pid
        holder.rollback()
    assert cli.returncode == 1, cli.stderr
    assert 2 <= took < 20
    assert f"{added.name}:1 failed: 55P03 canceling statement due to lock timeout after 2s" in cli.stderr
    assert "(DB_INIT_TABLE_LOCK_TIMEOUT_SECONDS)" in cli.stderr
    assert f"the lock is held by pid {pid} (report-export; idle in transaction" in cli.stderr
    assert "LOCK TABLE positions" in cli.stderr
    assert "nothing of this file was applied" in cli.stderr
    assert query(fresh_db, f"SELECT count(*) FROM {LEDGER} WHERE file_name = %s", (added.name,))[0][0] == 0
    note = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'positions' AND column_name = 'note'"
    assert query(fresh_db, note)[0][0] == 0
    again = migrate(fresh_db, db_init_copy)
    assert again.returncode == 0 and "db-init pre: 1 applied" in again.stdout


def test_a_statement_past_its_deadline_is_cancelled_and_named(fresh_db, db_init_copy):
    assert migrate(fresh_db, db_init_copy).returncode == 0
    slow = next_db_init_file(db_init_copy, "slow")
    slow.write_text("CREATE TABLE slow_marker (x int);\nSELECT pg_sleep(30);\n")
    t0 = time.monotonic()
    cli = migrate(fresh_db, db_init_copy, DB_INIT_STATEMENT_TIMEOUT_SECONDS="1.5")
    assert cli.returncode == 1
    assert time.monotonic() - t0 < 20
    assert f"{slow.name}:2 failed: 57014 canceling statement due to statement timeout after 1.5s" in cli.stderr
    assert "DB_INIT_STATEMENT_TIMEOUT_SECONDS" in cli.stderr
    assert query(fresh_db, "SELECT to_regclass('slow_marker')")[0][0] is None


def test_a_hanging_directus_cli_is_stopped_by_its_deadline(fresh_db, tmp_path):
    fake = tmp_path / "directus-cli"
    fake.write_text("#!/bin/sh\necho 'Initializing bootstrap...'\nsleep 600 &\nwait\n")
    fake.chmod(0o755)
    t0 = time.monotonic()
    cli = run_cli(
        "bootstrap",
        "--force",
        env={**db_env(fresh_db), "TRM_DIRECTUS_CLI": str(fake), "TRM_DIRECTUS_CLI_TIMEOUT_SECONDS": "2"},
        timeout=60,
    )
    took = time.monotonic() - t0
    assert cli.returncode == 1
    assert 2 <= took < 20
    assert "the Directus CLI `bootstrap` did not finish within 2s (TRM_DIRECTUS_CLI_TIMEOUT_SECONDS)" in cli.stderr
    assert "it was stopped" in cli.stderr
    assert "Initializing bootstrap..." in cli.stderr  # its last output
    assert "no session of the database was waiting for a lock" in cli.stderr
    # the CLI's whole process group went with it: no `sleep 600` is left
    leftovers = [
        p
        for p in os.listdir("/proc")
        if p.isdigit() and _cmdline(p) == "sleep\x00600\x00" and str(fake.parent) in _environ(p, "TRM_DIRECTUS_CLI")
    ]
    assert leftovers == []


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def _environ(pid: str, name: str) -> str:
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return ""
    return next((e.decode(errors="replace") for e in env if e.startswith(name.encode() + b"=")), "")


def test_a_directus_cli_stuck_on_a_table_lock_names_whose_lock_it_waits_for(fresh_db, tmp_path):
    fake = tmp_path / "directus-cli"
    fake.write_text('#!/bin/sh\necho "Applying schema..."\nexec psql "$FAKE_DSN" -c "ALTER TABLE t ADD COLUMN y int"\n')
    fake.chmod(0o755)
    with psycopg.connect(fresh_db, application_name="long-transaction") as holder:
        holder.execute("CREATE TABLE t (x int)")
        holder.commit()
        holder.execute("SELECT * FROM t")  # a transaction that keeps a lock on t
        pid = holder.info.backend_pid
        cli = run_cli(
            "bootstrap",
            "--force",
            env={
                **db_env(fresh_db),
                "FAKE_DSN": fresh_db,
                "TRM_DIRECTUS_CLI": str(fake),
                "TRM_DIRECTUS_CLI_TIMEOUT_SECONDS": "3",
            },
            timeout=60,
        )
        holder.rollback()
    assert cli.returncode == 1
    assert "did not finish within 3s" in cli.stderr and "Applying schema..." in cli.stderr
    waits = cli.stderr.split("lock waits in the database when it was stopped:")[1]
    assert "ALTER TABLE t ADD COLUMN y int" in waits
    assert f"waits for a lock held by pid {pid} (long-transaction; idle in transaction" in waits
