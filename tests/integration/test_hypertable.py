"""positions as production runs it: a TimescaleDB hypertable with 1-day chunks (db-init 002 and 004)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, copy_pre_schema_db_init, query, run_cli, timescaledb_installed
from tests.integration.test_migrations import PRE, fingerprint, runner
from trm_directus.dbinit import sqlsplit
from trm_directus.errors import TimescaleDBMissing

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not timescaledb_installed(),
        reason="TimescaleDB is not installed for this PostgreSQL: `bash .ci/prereqs` builds it "
        "(../shared/vendor/README.md); until then positions is a plain table and these assertions cannot run",
    ),
]
REQUIRED = {"TRM_TIMESCALEDB": "required"}
DAY0 = datetime(2026, 6, 6, tzinfo=UTC)
COLUMNS = "device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority"
INSERT = f"INSERT INTO positions ({COLUMNS}) VALUES (%s, %s, '8E', 41.3, 19.8, 110, 90, 42.5, 11, 0)"
ON_CONFLICT = " ON CONFLICT (device_id, ts) DO NOTHING"
INDEXES_OF = "SELECT indexdef FROM pg_indexes WHERE schemaname || '.' || tablename = %s"


def rows_over(days: int, devices: int = 2, per_day: int = 24) -> list[tuple[str, datetime]]:
    """(device_id, ts) pairs spread evenly over `days` days from DAY0: one chunk per day."""
    step = timedelta(days=1) / per_day
    return [(f"35630704244{d:04d}", DAY0 + i * step) for i in range(days * per_day) for d in range(devices)]


def batch_insert(dsn: str, rows: list[tuple[str, datetime]]) -> int:
    """The processor's write: one multi-row INSERT … ON CONFLICT (device_id, ts) DO NOTHING; rows inserted."""
    values = ", ".join(["(%s, %s, '8E', 41.3, 19.8, 110, 90, 42.5, 11, 0)"] * len(rows))
    params = [v for row in rows for v in row]
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(f"INSERT INTO positions ({COLUMNS}) VALUES {values}{ON_CONFLICT}", params).rowcount


def chunks(dsn: str) -> list[str]:
    return [
        r[0]
        for r in query(
            dsn,
            """SELECT chunk_schema || '.' || chunk_name FROM timescaledb_information.chunks
                WHERE hypertable_schema = 'public' AND hypertable_name = 'positions' ORDER BY range_start""",
        )
    ]


def is_hypertable(dsn: str) -> bool:
    if not query(dsn, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"):
        return False
    return bool(query(dsn, "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'positions'"))


def built_in_optional_mode(dsn: str, db_init: Path) -> None:
    """A database as a server without TimescaleDB leaves it: the files of `db_init` applied (optional
    mode), positions a plain table with its indexes, no timescaledb extension. Dropping the extension
    of a freshly migrated database gives exactly that (its chunks are empty)."""
    runner(dsn, db_init).migrate("pre")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP EXTENSION timescaledb CASCADE")
    assert not is_hypertable(dsn)
    assert query(dsn, "SELECT relkind FROM pg_class WHERE oid = 'public.positions'::regclass")[0][0] == "r"


def test_positions_is_a_hypertable_on_ts_with_one_day_chunks(fresh_db):
    runner(fresh_db, REPO / "db-init", **REQUIRED).migrate("pre")
    dims = query(
        fresh_db,
        """SELECT column_name, dimension_type, time_interval FROM timescaledb_information.dimensions
            WHERE hypertable_schema = 'public' AND hypertable_name = 'positions'""",
    )
    assert dims == [("ts", "Time", timedelta(days=1))]
    assert query(fresh_db, "SHOW timescaledb.telemetry_level") == [("off",)]
    assert "timescaledb" in query(fresh_db, "SHOW shared_preload_libraries")[0][0]


def test_unique_and_faulty_partial_index_exist_on_every_chunk(fresh_db):
    runner(fresh_db, REPO / "db-init", **REQUIRED).migrate("pre")
    assert batch_insert(fresh_db, rows_over(days=3)) == 3 * 24 * 2
    names = chunks(fresh_db)
    assert len(names) == 3
    for chunk in names:
        indexes = [r[0] for r in query(fresh_db, INDEXES_OF, (chunk,))]
        assert any("CREATE UNIQUE INDEX" in d and "(device_id, ts)" in d for d in indexes), (chunk, indexes)
        assert any("(device_id, ts DESC) WHERE (NOT faulty)" in d for d in indexes), (chunk, indexes)
        assert any(d.endswith("(ts DESC)") for d in indexes), (chunk, indexes)


def test_on_conflict_do_nothing_works_across_chunks(fresh_db):
    runner(fresh_db, REPO / "db-init", **REQUIRED).migrate("pre")
    first = rows_over(days=2)
    assert batch_insert(fresh_db, first) == len(first)
    # A redelivered batch spanning both chunks, plus new rows on a third day: only the new ones land.
    later = [(device, ts + timedelta(days=2)) for device, ts in first[:10]]
    assert batch_insert(fresh_db, first[::7] + later + first[-5:]) == len(later)
    assert batch_insert(fresh_db, first) == 0
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.execute(INSERT + ON_CONFLICT, first[0]).rowcount == 0
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(INSERT, first[-1])  # without ON CONFLICT the unique index still refuses
    assert query(fresh_db, "SELECT count(*) FROM positions")[0][0] == len(first) + len(later)
    assert query(fresh_db, "SELECT count(*) FROM ONLY positions")[0][0] == 0  # every row is in a chunk
    assert len(chunks(fresh_db)) == 3


def test_migrations_are_idempotent_on_a_hypertable_with_data(fresh_db):
    r = runner(fresh_db, REPO / "db-init", **REQUIRED)
    r.migrate("pre")
    batch_insert(fresh_db, rows_over(days=2))
    before = fingerprint(fresh_db)
    data = query(fresh_db, "SELECT device_id, ts, faulty FROM positions ORDER BY 1, 2")
    assert r.migrate("pre").applied == []
    for name in PRE:  # each file on its own, outside the ledger, as after a lost ledger row
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            for stmt in sqlsplit.split((REPO / "db-init" / name).read_text()):
                conn.execute(stmt.sql)
    assert fingerprint(fresh_db) == before
    assert query(fresh_db, "SELECT device_id, ts, faulty FROM positions ORDER BY 1, 2") == data
    assert len(chunks(fresh_db)) == 2


def test_plain_positions_with_rows_from_optional_mode_is_converted_keeping_its_rows(fresh_db, tmp_path):
    # A database built in optional mode before 004 existed (today's dev stacks): 001-003 applied.
    older = copy_pre_schema_db_init(tmp_path / "db-init")
    for name in PRE[3:]:
        (older / name).unlink()
    built_in_optional_mode(fresh_db, older)
    rows = rows_over(days=3)
    assert batch_insert(fresh_db, rows) == len(rows)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE positions SET faulty = true WHERE ts < %s", (DAY0 + timedelta(hours=1),))
    data = query(fresh_db, "SELECT device_id, ts, faulty FROM positions ORDER BY 1, 2")

    cli = run_cli("migrate", "--dsn", fresh_db, env=REQUIRED)
    assert cli.returncode == 0, cli.stderr
    # 004 converts; pre files numbered after it (they did not exist when this database was built) apply too.
    assert "applying pre/004_positions_hypertable.sql" in cli.stderr
    assert f"db-init pre: {len(PRE) - 3} applied" in cli.stdout
    assert is_hypertable(fresh_db) and len(chunks(fresh_db)) == 3
    assert query(fresh_db, "SELECT count(*) FROM ONLY positions")[0][0] == 0  # migrate_data moved them all
    assert query(fresh_db, "SELECT device_id, ts, faulty FROM positions ORDER BY 1, 2") == data
    assert batch_insert(fresh_db, rows[:50]) == 0  # the unique index holds on the new chunks


def test_database_built_in_optional_mode_with_every_file_applied_is_refused_then_converted(fresh_db):
    # Built in optional mode after 004 existed: nothing is pending, yet positions is a plain table.
    built_in_optional_mode(fresh_db, REPO / "db-init")
    rows = rows_over(days=2)
    batch_insert(fresh_db, rows)
    with pytest.raises(TimescaleDBMissing) as info:
        runner(fresh_db, REPO / "db-init", **REQUIRED).migrate("pre")
    text = info.value.render()
    assert "built without TimescaleDB (optional mode): positions is a plain table" in text
    assert "004_positions_hypertable.sql" in text and "migrate_data" in text
    cli = run_cli("migrate", "--dsn", fresh_db, env=REQUIRED)
    assert cli.returncode == 1 and "FAILED: TRM_TIMESCALEDB=required, but this database was built without" in cli.stderr
    assert run_cli("migrate", "--dsn", fresh_db, env={"TRM_TIMESCALEDB": "optional"}).returncode == 0

    # The fix the message gives: the idempotent conversion file by hand, then db-init passes.
    psql = shutil.which("psql") or "psql"
    fix = subprocess.run(
        [psql, fresh_db, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(REPO / "db-init" / "004_positions_hypertable.sql")],
        capture_output=True,
        text=True,
    )
    assert fix.returncode == 0, fix.stderr
    assert runner(fresh_db, REPO / "db-init", **REQUIRED).migrate("pre").applied == []
    assert is_hypertable(fresh_db) and len(chunks(fresh_db)) == 2
    assert query(fresh_db, "SELECT count(*) FROM positions")[0][0] == len(rows)
