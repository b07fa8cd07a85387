"""Native stacks booted by image/entrypoint.sh: a real PostgreSQL + PostGIS, Redis and Directus 11.17.4."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, execute, query, timescaledb_installed
from trm_directus.dbinit.discovery import discover
from trm_directus.dbinit.ledger import LEDGER
from trm_directus.errors import StackError
from trm_directus.services import proc
from trm_directus.stacks.native import NativeStack, health

pytestmark = [pytest.mark.integration, pytest.mark.directus]

STEPS = ["1/5 db-init pre-schema", "2/5 bootstrap", "3/5 schema apply", "4/5 db-init post-schema"]


def step_markers(stack: NativeStack) -> list[str]:
    return [m.split(" done in")[0] for m in stack.markers() if not m.startswith("5/5")] + [
        m[:9] for m in stack.markers() if m.startswith("5/5")
    ]


def api(url: str, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def leftovers(stack: NativeStack) -> dict:
    """What a stack holds on the machine: processes, ports, directories."""
    pm = stack.postgres.data_dir / "postmaster.pid"
    return {
        "pids": [
            p
            for p in [
                stack.info.pids.get("redis"),
                stack.info.pids.get("directus"),
                int(pm.read_text().split()[0]) if pm.exists() else None,
            ]
            if p
        ],
        "ports": list(stack.info.ports.values()),
        "dirs": [stack.state_dir, stack.postgres.pg_dir],
    }


def test_stack_boots_through_all_five_steps_reboots_idempotently_and_leaves_nothing_behind():
    with NativeStack() as stack:
        assert step_markers(stack) == ["preflight", *[s for s in STEPS for _ in (0, 1)], "5/5 start"]
        assert health(stack.url) == {"status": "ok"}
        login = api(stack.url, "/auth/login", body={"email": stack.info.admin_email, "password": stack.info.admin_password})
        assert login["data"]["access_token"]
        me = api(stack.url, "/users/me", token=stack.info.admin_token)
        assert me["data"]["email"] == stack.info.admin_email
        if timescaledb_installed():  # loaded by the stack's PostgreSQL, db-init in production's required mode
            assert "TimescaleDB is not available" not in stack.boot_output()
            assert query(stack.info.dsn, "SELECT extname FROM pg_extension WHERE extname = 'timescaledb'") == [("timescaledb",)]
            assert query(stack.info.dsn, "SELECT hypertable_name FROM timescaledb_information.hypertables") == [("positions",)]
        else:
            assert "WARNING: [001_extensions.sql] TimescaleDB is not available" in stack.boot_output()

        dsn = stack.info.dsn
        ledger = query(dsn, f"SELECT file_name, checksum, applied_at FROM {LEDGER} ORDER BY phase = 'post', number")
        directus_migrations = query(dsn, "SELECT count(*) FROM directus_migrations")[0][0]
        users = query(dsn, "SELECT id, email FROM directus_users ORDER BY id")
        assert [r[0] for r in ledger] == [f.name for f in discover(REPO / "db-init")]

        stack.stop_directus()
        assert health(stack.url) is None
        stack.boot()
        assert step_markers(stack) == ["preflight", *[s for s in STEPS for _ in (0, 1)], "5/5 start"]
        second = stack.boot_output()
        assert "db-init pre: 0 applied" in second and "db-init post: 0 applied" in second
        assert "bootstrap has nothing to do, skipped" in second
        assert query(dsn, f"SELECT file_name, checksum, applied_at FROM {LEDGER} ORDER BY phase = 'post', number") == ledger
        assert query(dsn, "SELECT count(*) FROM directus_migrations")[0][0] == directus_migrations
        assert query(dsn, "SELECT id, email FROM directus_users ORDER BY id") == users
        held = leftovers(stack)
        assert held["pids"] and all(proc.pid_alive(p) for p in held["pids"])
    assert [p for p in held["pids"] if proc.pid_alive(p)] == []
    assert [p for p in held["ports"] if proc.port_open(p)] == []
    assert [d for d in held["dirs"] if Path(d).exists()] == []


def test_broken_pre_schema_migration_halts_boot_at_step_1(db_init_copy):
    (db_init_copy / "090_broken.sql").write_text("SELECT 1;\nCREATE TABLE oops (x nosuchtype);\n")
    stack = NativeStack(db_init_dir=db_init_copy)
    with pytest.raises(StackError) as info, stack:
        pytest.fail("the stack must not come up")
    err = info.value
    assert "FAILED at step 1/5 (db-init pre-schema)" in err.what
    assert "090_broken.sql:2 failed" in err.log_tail
    output = err.log_tail
    assert "2/5 bootstrap" not in output and "Server started" not in output
    assert not proc.port_open(stack.info.ports["directus"])
    assert not stack.state_dir.exists() and not stack.postgres.pg_dir.exists()


def test_placeholder_secret_is_refused_before_any_step():
    stack = NativeStack(env={"SECRET": "changeme"})
    with pytest.raises(StackError) as info, stack:
        pass
    assert "FAILED at preflight" in info.value.what
    assert "SECRET is missing or a placeholder" in info.value.log_tail
    assert not stack.state_dir.exists()


def test_two_stacks_run_side_by_side_on_separate_ports_and_databases():
    # Copies of one template database: separate clusters all the same, and each its own token.
    with NativeStack(from_template=True) as a, NativeStack(from_template=True) as b:
        assert a.info.admin_token != b.info.admin_token
        assert set(a.info.ports.values()).isdisjoint(b.info.ports.values())
        assert a.state_dir != b.state_dir
        assert health(a.url) == {"status": "ok"} and health(b.url) == {"status": "ok"}
        execute(a.info.dsn, "CREATE TABLE only_in_a (x int)")
        assert query(b.info.dsn, "SELECT to_regclass('only_in_a')")[0][0] is None
        assert api(b.url, "/users/me", token=b.info.admin_token)["data"]["email"] == b.info.admin_email
        with pytest.raises(urllib.error.HTTPError) as other:  # a's token is a's only
            api(b.url, "/users/me", token=a.info.admin_token)
        assert other.value.code == 401
