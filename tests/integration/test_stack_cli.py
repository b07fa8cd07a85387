"""The dev-stack commands behind `invoke up/status/down` (the README quickstart), as a user runs them."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.conftest import query, run_cli
from trm_directus.backup import repo as pgbr
from trm_directus.backup import verify
from trm_directus.services import proc
from trm_directus.stacks.base import StackInfo
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def info_dsn(env: dict[str, str]) -> str:
    return StackInfo.load(Path(env["TRM_STATE_DIR"])).dsn


def test_up_status_down_purge(tmp_path):
    env = {"TRM_STATE_DIR": str(tmp_path / "stack")}
    port = proc.free_port()
    try:
        up = run_cli("stack", "up", "--backend", "native", "--port", str(port), env=env, timeout=600)
        assert up.returncode == 0, up.stderr[-3000:]
        assert f"admin UI   http://127.0.0.1:{port}/admin" in up.stdout and "login      admin@example.com / (hidden" in up.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}
        info = json.loads((tmp_path / "stack" / "stack.json").read_text())
        assert oct((tmp_path / "stack" / "stack.json").stat().st_mode & 0o777) == "0o600"  # it holds credentials
        assert info["admin_password"] not in up.stdout + up.stderr and info["admin_token"] not in up.stdout + up.stderr

        again = run_cli("stack", "up", "--port", str(port), env=env)
        assert again.returncode == 0 and "the dev stack is already running" in again.stderr

        status = run_cli("stack", "status", env=env)
        assert status.returncode == 0 and "directus  running" in status.stdout and "health    ok" in status.stdout
        assert info["admin_password"] not in status.stdout and info["admin_token"] not in status.stdout
        shown = run_cli("stack", "status", "--show-secrets", env=env)
        assert f"admin@example.com / {info['admin_password']}" in shown.stdout and info["admin_token"] in shown.stdout
        logs = run_cli("stack", "logs", "--lines", "200", env=env)
        assert "[entrypoint] 5/5 start" in logs.stdout

        down = run_cli("stack", "down", env=env)
        assert down.returncode == 0 and "data kept" in down.stdout
        assert not proc.port_open(port) and not proc.pid_alive(info["pids"]["redis"])
        stopped = run_cli("stack", "status", env=env)
        assert stopped.returncode == 1 and "`invoke up` starts it" in stopped.stdout

        restarted = run_cli("stack", "up", "--port", str(port), env=env, timeout=600)
        assert restarted.returncode == 0, restarted.stderr[-3000:]
        assert "bootstrap has nothing to do, skipped" in (tmp_path / "stack" / "logs" / "directus.log").read_text()

        backed_up = pgbr.available()
        if backed_up:  # a row, then a backup; the row after it comes back from the archived WAL
            backup = run_cli("backup", env=env, timeout=600)
            assert backup.returncode == 0 and "(full) done" in backup.stdout, backup.stderr[-3000:]
            listed = run_cli("backup", "list", env=env)
            assert " full " in listed.stdout and "restorable: any time from" in listed.stdout
            with psycopg.connect(info_dsn(env), autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO organizations (id, name, slug) VALUES (gen_random_uuid(), 'Backup Club', 'backup-club')"
                )
                verify.wait_archived(info_dsn(env))
        # the data directory vanishes (e.g. it was under /tmp and the machine rebooted): refused, not re-created
        assert run_cli("stack", "down", env=env).returncode == 0
        data = NativeStack(tmp_path / "stack", persistent=True).postgres.data_dir
        shutil.rmtree(data)
        vanished = run_cli("stack", "up", "--port", str(port), env=env, timeout=600)
        assert vanished.returncode == 1, vanished.stdout + vanished.stderr[-3000:]
        assert "FAILED: the stack's database is gone" in vanished.stderr and "stack up --reset" in vanished.stderr
        assert not data.exists() and not proc.port_open(port)
        # restore: the dev stack archives its WAL (pgBackRest), so the lost database comes back
        if backed_up:
            restored = run_cli("restore", env=env, timeout=900)
            assert restored.returncode == 0, restored.stderr[-3000:]
            assert "dev stack restored" in restored.stdout and (data / "PG_VERSION").exists()
            exports = run_cli("stack", "env", env=env).stdout
            assert f"export DIRECTUS_URL='http://127.0.0.1:{port}'" in exports
            assert query(info_dsn(env), "SELECT count(*) FROM organizations WHERE slug = 'backup-club'") == [(1,)]
            assert run_cli("stack", "down", env=env).returncode == 0
        reset = run_cli("stack", "up", "--reset", "--port", str(port), env=env, timeout=600)
        assert reset.returncode == 0, reset.stderr[-3000:]
        assert (data / "PG_VERSION").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}
    finally:
        purge = run_cli("stack", "down", "--purge", env=env)
    assert purge.returncode == 0 and "purged" in purge.stdout
    assert not (tmp_path / "stack").exists() and not proc.port_open(port)
