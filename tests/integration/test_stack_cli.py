"""The dev-stack commands behind `invoke up/status/down` (the README quickstart), as a user runs them."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from tests.conftest import run_cli
from trm_directus.stacks import proc
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def test_up_status_down_purge(tmp_path):
    env = {"TRM_STATE_DIR": str(tmp_path / "stack")}
    port = proc.free_port()
    try:
        up = run_cli("stack", "up", "--backend", "native", "--port", str(port), env=env, timeout=600)
        assert up.returncode == 0, up.stderr[-3000:]
        assert f"admin UI   http://127.0.0.1:{port}/admin" in up.stdout and "login      admin@example.com / " in up.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}
        info = json.loads((tmp_path / "stack" / "stack.json").read_text())
        assert oct((tmp_path / "stack" / "stack.json").stat().st_mode & 0o777) == "0o600"  # it holds credentials

        again = run_cli("stack", "up", "--port", str(port), env=env)
        assert again.returncode == 0 and "the dev stack is already running" in again.stderr

        status = run_cli("stack", "status", env=env)
        assert status.returncode == 0 and "directus  running" in status.stdout and "health    ok" in status.stdout
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

        # the data directory vanishes (e.g. it was under /tmp and the machine rebooted): refused, not re-created
        assert run_cli("stack", "down", env=env).returncode == 0
        data = NativeStack(tmp_path / "stack", persistent=True).postgres.data_dir
        shutil.rmtree(data)
        vanished = run_cli("stack", "up", "--port", str(port), env=env, timeout=600)
        assert vanished.returncode == 1, vanished.stdout + vanished.stderr[-3000:]
        assert "FAILED: the stack's database is gone" in vanished.stderr and "stack up --reset" in vanished.stderr
        assert not data.exists() and not proc.port_open(port)
        reset = run_cli("stack", "up", "--reset", "--port", str(port), env=env, timeout=600)
        assert reset.returncode == 0, reset.stderr[-3000:]
        assert (data / "PG_VERSION").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok"}
    finally:
        purge = run_cli("stack", "down", "--purge", env=env)
    assert purge.returncode == 0 and "purged" in purge.stdout
    assert not (tmp_path / "stack").exists() and not proc.port_open(port)
