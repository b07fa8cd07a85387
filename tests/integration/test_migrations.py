"""The db-init runner against a real PostgreSQL + PostGIS cluster."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, query, run_cli, timescaledb_installed
from trm_directus import migrations
from trm_directus.errors import (
    ChecksumMismatch,
    DatabaseUnavailable,
    MigrationFailed,
    MigrationLayoutError,
    MissingMigration,
    OutOfOrderMigration,
)
from trm_directus.migrations import LEDGER, Runner

pytestmark = pytest.mark.integration
OPTIONAL = {"TRM_TIMESCALEDB": "optional"}
PRE = [f.name for f in migrations.discover(REPO / "db-init") if f.phase == "pre"]
N = len(PRE)
# A new pre-schema file in these tests: numbered above every file of both phases (numbers are unique across them).
NEXT = f"{max(f.number for f in migrations.discover(REPO / 'db-init')) + 1:03d}"


def runner(dsn: str, root: Path, **env: str) -> Runner:
    return Runner(dsn, root, timeout=10, env={**OPTIONAL, **env})


def ledger(dsn: str) -> list[tuple]:
    return query(dsn, f"SELECT file_name, phase, checksum, applied_at FROM {LEDGER} ORDER BY phase = 'post', number")


def ledger_exists(dsn: str) -> bool:
    return query(dsn, "SELECT to_regclass(%s) IS NOT NULL", (LEDGER,))[0][0]


def fingerprint(dsn: str) -> list[tuple]:
    """Everything a migration could change: relations, columns, indexes, constraints, extensions, ledger."""
    rows = query(
        dsn,
        """
        SELECT 'rel', n.nspname || '.' || c.relname || ':' || c.relkind::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        UNION ALL
        SELECT 'col', concat_ws(':', table_schema || '.' || table_name || '.' || column_name, data_type, is_nullable,
                                coalesce(column_default, ''))
          FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
        UNION ALL SELECT 'idx', indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog')
        UNION ALL
        SELECT 'con', conname || ':' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN ('pg_catalog')
        UNION ALL SELECT 'ext', extname || ':' || extversion FROM pg_extension
        UNION ALL SELECT 'cmt', coalesce(obj_description(c.oid), '') FROM pg_class c WHERE c.relname = 'positions'
        ORDER BY 1, 2
        """,
    )
    if ledger_exists(dsn):
        rows += [("ledger", *r) for r in ledger(dsn)]
    return rows


def test_apply_from_empty_applies_every_file_once_and_records_it(fresh_db):
    result = runner(fresh_db, REPO / "db-init").migrate("pre")
    files = [f for f in migrations.discover(REPO / "db-init") if f.phase == "pre"]
    assert [f.name for f, _ in result.applied] == [f.name for f in files]
    rows = query(
        fresh_db,
        f"SELECT file_name, phase, checksum, duration_ms, applied_by, runner_version FROM {LEDGER}"
        " ORDER BY phase = 'post', number",
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [(f.name, "pre", f.checksum) for f in files]
    assert all(r[3] >= 0 and r[4].startswith("postgres@") and r[5] for r in rows)


def test_rerun_is_a_no_op(fresh_db):
    r = runner(fresh_db, REPO / "db-init")
    r.migrate("pre")
    before = fingerprint(fresh_db)
    again = r.migrate("pre")
    assert again.applied == [] and again.skipped == N
    assert fingerprint(fresh_db) == before


def test_cli_migrate_reports_counts_and_rerun_applies_nothing(fresh_db):
    first = run_cli("migrate", "--dsn", fresh_db)
    assert first.returncode == 0, first.stderr
    assert f"db-init pre: {N} applied" in first.stdout
    # run_cli runs db-init as the native stacks do: required where the server has TimescaleDB.
    assert ("WARNING: [001_extensions.sql] TimescaleDB is not available" in first.stderr) is not timescaledb_installed()
    second = run_cli("migrate", "--dsn", fresh_db)
    assert second.returncode == 0, second.stderr
    assert "db-init pre: 0 applied" in second.stdout and f"{N} already applied" in second.stdout
    assert "postgres:postgres@" not in first.stdout + first.stderr  # the password is masked


def test_edited_applied_file_is_refused_before_anything_runs(fresh_db, db_init_copy):
    runner(fresh_db, db_init_copy).migrate("pre")
    edited = db_init_copy / "002_positions.sql"
    edited.write_text(edited.read_text() + "\n-- a harmless looking edit\n")
    (db_init_copy / f"{NEXT}_new.sql").write_text("CREATE TABLE new_after_edit (x int);\n")
    with pytest.raises(ChecksumMismatch) as info:
        runner(fresh_db, db_init_copy).migrate("pre")
    text = info.value.render()
    applied_sum = query(fresh_db, f"SELECT checksum FROM {LEDGER} WHERE file_name = '002_positions.sql'")[0][0]
    assert applied_sum[:12] in text and migrations.checksum(edited.read_bytes())[:12] in text
    assert "repair" in text and "revert" in text
    assert query(fresh_db, "SELECT to_regclass('new_after_edit')")[0][0] is None
    cli = run_cli("migrate", "--dsn", fresh_db, "--dir", str(db_init_copy))
    assert cli.returncode == 1
    assert "FAILED: 1 applied db-init file(s) changed" in cli.stderr and "What to do:" in cli.stderr


def test_repair_accepts_a_reviewed_edit_and_keeps_the_old_checksum(fresh_db, db_init_copy):
    runner(fresh_db, db_init_copy).migrate("pre")
    old = query(fresh_db, f"SELECT checksum FROM {LEDGER} WHERE file_name = '003_positions_faulty.sql'")[0][0]
    edited = db_init_copy / "003_positions_faulty.sql"
    edited.write_text(edited.read_text().replace("-- 003:", "-- 003 (reviewed comment fix):"))
    cli = run_cli("repair", "--dsn", fresh_db, "--dir", str(db_init_copy), "003_positions_faulty.sql")
    assert cli.returncode == 0, cli.stderr
    assert "1 file(s) repaired" in cli.stdout
    row = query(
        fresh_db,
        f"SELECT checksum, previous_checksum, repaired_at IS NOT NULL FROM {LEDGER} WHERE file_name = '003_positions_faulty.sql'",
    )[0]
    assert row == (migrations.checksum(edited.read_bytes()), old, True)
    assert runner(fresh_db, db_init_copy).migrate("pre").applied == []
    nothing = run_cli("repair", "--dsn", fresh_db, "--dir", str(db_init_copy), "001_extensions.sql")
    assert nothing.returncode == 1 and "nothing to repair for: 001_extensions.sql (applied)" in nothing.stderr


def test_out_of_order_file_is_refused(fresh_db, db_init_copy):
    held_back = db_init_copy / "002_positions.sql"
    content = held_back.read_text()
    for name in PRE[1:]:
        (db_init_copy / name).unlink()
    (db_init_copy / f"{NEXT}_later.sql").write_text("SELECT 1;\n")
    runner(fresh_db, db_init_copy).migrate("pre")  # applies 001 and the new one
    held_back.write_text(content)
    with pytest.raises(OutOfOrderMigration) as info:
        runner(fresh_db, db_init_copy).migrate("pre")
    assert f"002_positions.sql is below the highest applied {NEXT}_later.sql" in info.value.render()
    assert query(fresh_db, "SELECT to_regclass('public.positions')")[0][0] is None


def test_applied_file_missing_on_disk_is_refused(fresh_db, db_init_copy):
    runner(fresh_db, db_init_copy).migrate("pre")
    (db_init_copy / "003_positions_faulty.sql").rename(db_init_copy / "003_positions_faulty.sql.bak")
    with pytest.raises(MigrationLayoutError):  # the .bak name itself is refused first
        runner(fresh_db, db_init_copy).migrate("pre")
    (db_init_copy / "003_positions_faulty.sql.bak").unlink()
    with pytest.raises(MissingMigration, match=r"003_positions_faulty\.sql"):
        runner(fresh_db, db_init_copy).migrate("pre")


def test_bad_file_names_are_refused_before_anything_runs(fresh_db, db_init_copy):
    (db_init_copy / "4_sloppy.sql").write_text("SELECT 1;\n")
    cli = run_cli("migrate", "--dsn", fresh_db, "--dir", str(db_init_copy))
    assert cli.returncode == 1
    assert "4_sloppy.sql: name does not match NNN_name.sql" in cli.stderr
    assert not ledger_exists(fresh_db)
    assert query(fresh_db, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0] == 0


def test_broken_sql_leaves_no_trace_and_names_file_and_line(fresh_db, db_init_copy):
    runner(fresh_db, db_init_copy).migrate("pre")
    before = fingerprint(fresh_db)
    (db_init_copy / f"{NEXT}_broken.sql").write_text(
        "CREATE TABLE half_done (x int);\nINSERT INTO half_done VALUES (1);\n\nALTER TABLE half_done\n    ADD COLUMN y intt;\n"
    )
    with pytest.raises(MigrationFailed) as info:
        runner(fresh_db, db_init_copy).migrate("pre")
    err = info.value
    assert err.line == 5
    assert f"{NEXT}_broken.sql:5" in err.what and 'type "intt" does not exist' in err.what
    assert "rolled back" in err.hint
    assert fingerprint(fresh_db) == before


def test_error_raised_inside_a_do_block_points_at_its_line(fresh_db, db_init_copy):
    (db_init_copy / f"{NEXT}_do_block.sql").write_text(
        "SELECT 1;\nDO $$\nBEGIN\n    PERFORM 1;\n    RAISE EXCEPTION 'assertion failed on purpose';\nEND\n$$;\n"
    )
    cli = run_cli("migrate", "--dsn", fresh_db, "--dir", str(db_init_copy))
    assert cli.returncode == 1
    assert f"{NEXT}_do_block.sql:5 failed: P0001 assertion failed on purpose" in cli.stderr
    assert [r[0] for r in ledger(fresh_db)] == PRE


def test_four_concurrent_runners_apply_each_file_exactly_once(fresh_db, db_init_copy):
    # A slow, non-idempotent file: applying it twice would leave two rows.
    (db_init_copy / f"{NEXT}_counted.sql").write_text(
        "SELECT pg_sleep(1.5);\nCREATE TABLE IF NOT EXISTS apply_count (n int);\nINSERT INTO apply_count VALUES (1);\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "trm_directus", "migrate", "--dsn", fresh_db, "--dir", str(db_init_copy)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**__import__("os").environ, **OPTIONAL},
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert query(fresh_db, "SELECT count(*) FROM apply_count")[0][0] == 1
    assert len(ledger(fresh_db)) == N + 1
    applied_counts = sorted(int(out.split("db-init pre: ")[1].split(" ")[0]) for out, _ in outputs)
    assert applied_counts == [0, 0, 0, N + 1]
    assert any("waiting for the db-init lock" in err for _, err in outputs)


def test_status_and_dry_run_write_nothing(fresh_db, db_init_copy):
    read_only = {"PGOPTIONS": "-c default_transaction_read_only=on"}
    empty = run_cli("status", "--dsn", fresh_db, "--dir", str(db_init_copy), env=read_only)
    assert empty.returncode == 0, empty.stderr
    assert "no ledger yet" in empty.stdout and f"0 applied, {N} pending" in empty.stdout
    dry = run_cli("migrate", "--dry-run", "--dsn", fresh_db, "--dir", str(db_init_copy), env=read_only)
    assert dry.returncode == 0, dry.stderr
    assert f"{N} file(s) would be applied" in dry.stdout and "would apply pre/001_extensions.sql" in dry.stdout
    assert not ledger_exists(fresh_db)

    runner(fresh_db, db_init_copy).migrate("pre")
    (db_init_copy / f"{NEXT}_pending.sql").write_text("SELECT 1;\n")
    (db_init_copy / "post").mkdir(exist_ok=True)
    (db_init_copy / "post" / "100_after_schema.sql").write_text("SELECT 2;\n")
    before = fingerprint(fresh_db)
    status = run_cli("status", "--dsn", fresh_db, "--dir", str(db_init_copy), env=read_only)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert any("002_positions.sql" in ln and " applied " in ln for ln in lines)
    assert any(f"{NEXT}_pending.sql" in ln and " pending " in ln for ln in lines)
    assert any(ln.strip().startswith("post") and "100_after_schema.sql" in ln and "pending" in ln for ln in lines)
    assert f"{N} applied, 2 pending, 0 changed, 0 missing on disk" in status.stdout
    dry = run_cli("migrate", "--dry-run", "--phase", "all", "--dsn", fresh_db, "--dir", str(db_init_copy), env=read_only)
    assert f"2 file(s) would be applied, {N} already applied" in dry.stdout
    assert fingerprint(fresh_db) == before


def test_status_shows_changed_and_missing_files_and_exits_1(fresh_db, db_init_copy):
    runner(fresh_db, db_init_copy).migrate("pre")
    (db_init_copy / "002_positions.sql").write_text("-- edited\n" + (db_init_copy / "002_positions.sql").read_text())
    (db_init_copy / "003_positions_faulty.sql").unlink()
    status = run_cli("status", "--dsn", fresh_db, "--dir", str(db_init_copy))
    assert status.returncode == 1
    assert any("002_positions.sql" in ln and "changed" in ln for ln in status.stdout.splitlines())
    assert any("003_positions_faulty.sql" in ln and "missing" in ln for ln in status.stdout.splitlines())


def test_post_phase_files_run_only_in_the_post_phase(fresh_db, db_init_copy):
    (db_init_copy / "post").mkdir(exist_ok=True)
    (db_init_copy / "post" / "100_after.sql").write_text("CREATE TABLE after_schema (x int);\n")
    r = runner(fresh_db, db_init_copy)
    assert [f.name for f, _ in r.migrate("pre").applied] == PRE
    assert query(fresh_db, "SELECT to_regclass('after_schema')")[0][0] is None
    assert [f.name for f, _ in r.migrate("post").applied] == ["100_after.sql"]
    assert query(fresh_db, f"SELECT phase FROM {LEDGER} WHERE file_name = '100_after.sql'")[0][0] == "post"


def test_migrations_create_the_positions_contract(fresh_db):
    runner(fresh_db, REPO / "db-init").migrate("pre")
    cols = query(
        fresh_db,
        """SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
                              WHERE table_schema = 'public' AND table_name = 'positions' ORDER BY ordinal_position""",
    )
    assert [(c[0], c[1], c[2]) for c in cols] == [
        ("device_id", "text", "NO"),
        ("ts", "timestamp with time zone", "NO"),
        ("ingested_at", "timestamp with time zone", "NO"),
        ("codec", "text", "NO"),
        ("latitude", "double precision", "NO"),
        ("longitude", "double precision", "NO"),
        ("altitude", "real", "NO"),
        ("angle", "real", "NO"),
        ("speed", "real", "NO"),
        ("satellites", "smallint", "NO"),
        ("priority", "smallint", "NO"),
        ("attributes", "jsonb", "YES"),
        ("faulty", "boolean", "NO"),
    ]
    defaults = {c[0]: c[3] for c in cols}
    assert defaults["ingested_at"] == "now()" and defaults["faulty"] == "false"
    indexes = dict(query(fresh_db, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'positions'"))
    assert "UNIQUE INDEX" in indexes["positions_device_id_ts_key"] and "(device_id, ts)" in indexes["positions_device_id_ts_key"]
    assert "(ts DESC)" in indexes["positions_ts_idx"]
    assert "(device_id, ts DESC) WHERE (NOT faulty)" in indexes["positions_device_ts_not_faulty_idx"]
    assert query(fresh_db, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0] == 1
    # The processor's write: ON CONFLICT (device_id, ts) DO NOTHING relies on the unique index.
    insert = """INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
                VALUES ('356307042441013', '2026-06-06T08:00:00Z', '8E', 41.3, 19.8, 110, 90, 42.5, 11, 0)
                ON CONFLICT (device_id, ts) DO NOTHING"""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.execute(insert).rowcount == 1
        assert conn.execute(insert).rowcount == 0
        assert conn.execute("SELECT faulty FROM positions").fetchone()[0] is False


def test_ledger_is_outside_the_directus_search_path(fresh_db):
    runner(fresh_db, REPO / "db-init").migrate("pre")
    public_tables = {r[0] for r in query(fresh_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert "ledger" not in public_tables and not any("migration" in t for t in public_tables)
    assert query(fresh_db, "SELECT to_regclass('trm_db_init.ledger') IS NOT NULL")[0][0]


@pytest.mark.parametrize("name", PRE)
def test_each_file_is_idempotent_on_its_own(fresh_db, name):
    runner(fresh_db, REPO / "db-init").migrate("pre")
    before = fingerprint(fresh_db)
    body = (REPO / "db-init" / name).read_text()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SELECT set_config('trm.timescaledb', 'optional', false)")
        for stmt in migrations.sqlsplit.split(body):
            conn.execute(stmt.sql)
    assert fingerprint(fresh_db) == before


def test_timescaledb_is_required_unless_optional_is_set(cluster_without_timescaledb):
    """A server without TimescaleDB (a copy of this install without it, when this one has it)."""
    dsn = cluster_without_timescaledb.create_database("no_timescaledb", drop=True)
    available = query(dsn, "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")[0][0]
    assert available == 0, "the cluster meant to lack TimescaleDB offers it: the test would prove nothing"
    cli = run_cli("migrate", "--dsn", dsn, env={"TRM_TIMESCALEDB": "required"})
    assert cli.returncode == 1
    assert "001_extensions.sql:24 failed: P0001 TimescaleDB is required but not available" in cli.stderr
    assert "TRM_TIMESCALEDB=optional" in cli.stderr
    assert not query(dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0]
    assert run_cli("migrate", "--dsn", dsn, env=OPTIONAL).returncode == 0
    assert query(dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0] == 1
    again = run_cli("migrate", "--dsn", dsn, env={"TRM_TIMESCALEDB": "required"})
    assert again.returncode == 1 and "FAILED: TRM_TIMESCALEDB=required, but this server has no TimescaleDB" in again.stderr


def test_unknown_timescaledb_mode_is_refused(fresh_db):
    bad = run_cli("migrate", "--dsn", fresh_db, env={"TRM_TIMESCALEDB": "maybe"})
    assert bad.returncode == 1 and "TRM_TIMESCALEDB='maybe' is not understood" in bad.stderr
    assert query(fresh_db, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")[0][0] == 0  # nothing ran


def test_database_that_never_answers_is_a_clear_error():
    from trm_directus.stacks.proc import free_port

    dsn = f"postgresql://directus:s3cret@127.0.0.1:{free_port()}/directus"
    t0 = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info:
        Runner(dsn, REPO / "db-init", timeout=2, env=OPTIONAL).migrate("pre")
    assert 2 <= time.monotonic() - t0 < 10
    text = info.value.render()
    assert "did not answer within 2s" in text and "s3cret" not in text and "DB_INIT_TIMEOUT_SECONDS" in text
    cli = run_cli("migrate", "--dsn", dsn, "--timeout", "1")
    assert cli.returncode == 1 and "FAILED: database postgresql://directus:***@" in cli.stderr


def test_runner_waits_for_a_database_that_comes_up_late(tmp_path):
    from trm_directus.stacks.postgres import PostgresCluster
    from trm_directus.stacks.proc import free_port

    late = PostgresCluster(tmp_path / "late", port=free_port())
    late.init()
    timer = threading.Timer(3.0, late.start)
    timer.start()
    try:
        env = {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(late.port),
            "DB_DATABASE": "postgres",
            "DB_USER": "postgres",
            "DB_PASSWORD": late.password,
            "DB_INIT_TIMEOUT_SECONDS": "30",
        }
        cli = run_cli("migrate", env=env)
        assert cli.returncode == 0, cli.stderr
        assert "waiting for database" in cli.stderr and "database answered after" in cli.stderr
        assert f"db-init pre: {N} applied" in cli.stdout
    finally:
        timer.join()
        late.destroy()
