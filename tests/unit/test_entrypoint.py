"""image/entrypoint.sh without a database: preflight, the boot-steps wiring, line endings.

The step order, markers and the boot lock are tested with a real database in
tests/integration/test_boot_steps.py.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

ENTRYPOINT = REPO / "image" / "entrypoint.sh"


def boot(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    trace = tmp_path / "trace"
    steps = {
        "TRM_CMD_PREFLIGHT": f"echo preflight >> {trace}",
        "TRM_CMD_BOOT_STEPS": f"echo steps >> {trace}",
        "TRM_CMD_START": f"echo start >> {trace}",
    }
    env = {**os.environ, **steps, **overrides}
    return subprocess.run(["bash", str(ENTRYPOINT)], capture_output=True, text=True, env=env, timeout=30)


def test_preflight_then_boot_steps_then_start(tmp_path):
    result = boot(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "trace").read_text().split() == ["preflight", "steps", "start"]
    assert "[entrypoint] 5/5 start (boot steps took" in result.stdout


def test_failing_boot_steps_stop_the_boot_with_their_exit_code(tmp_path):
    result = boot(tmp_path, TRM_CMD_BOOT_STEPS="exit 7")
    assert result.returncode == 7
    assert (tmp_path / "trace").read_text().split() == ["preflight"]


def test_failing_preflight_stops_before_any_step(tmp_path):
    result = boot(tmp_path, TRM_CMD_PREFLIGHT="false")
    assert result.returncode == 1
    assert "FAILED at preflight" in result.stdout
    assert not (tmp_path / "trace").exists()


def test_boot_steps_without_step_commands_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRM_CMD_")}
    result = subprocess.run(
        [sys.executable, "-m", "trm_directus", "boot-steps"], capture_output=True, text=True, env=env, timeout=30, cwd=REPO
    )
    assert result.returncode == 1
    assert "not set: TRM_CMD_MIGRATE_PRE, TRM_CMD_BOOTSTRAP, TRM_CMD_SCHEMA_APPLY, TRM_CMD_MIGRATE_POST" in result.stderr
    assert "image/entrypoint.sh" in result.stderr


def test_entrypoint_is_stored_with_lf_endings():
    assert b"\r\n" not in ENTRYPOINT.read_bytes()
    attrs = subprocess.run(["git", "check-attr", "eol", "image/entrypoint.sh"], capture_output=True, text=True, cwd=REPO).stdout
    assert attrs.strip().endswith("eol: lf")
