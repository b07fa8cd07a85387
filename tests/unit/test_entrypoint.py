"""image/entrypoint.sh with stand-in commands: order, markers, and halting on the failing step."""

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO

ENTRYPOINT = REPO / "image" / "entrypoint.sh"


def boot(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    trace = tmp_path / "trace"
    steps = {
        "TRM_CMD_PREFLIGHT": f"echo preflight >> {trace}",
        "TRM_CMD_MIGRATE_PRE": f"echo pre >> {trace}",
        "TRM_CMD_BOOTSTRAP": f"echo bootstrap >> {trace}",
        "TRM_CMD_SCHEMA_APPLY": f"echo apply >> {trace}",
        "TRM_CMD_MIGRATE_POST": f"echo post >> {trace}",
        "TRM_CMD_START": f"echo start >> {trace}",
    }
    env = {**os.environ, **steps, **overrides}
    return subprocess.run(["bash", str(ENTRYPOINT)], capture_output=True, text=True, env=env, timeout=30)


def markers(output: str) -> list[str]:
    return [ln.split("] ", 1)[1].split(" done in")[0] for ln in output.splitlines() if ln.startswith("[entrypoint]")]


def test_steps_run_in_the_fixed_order_with_markers(tmp_path):
    result = boot(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "trace").read_text().split() == ["preflight", "pre", "bootstrap", "apply", "post", "start"]
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


def test_a_failing_step_halts_the_boot_and_names_the_step(tmp_path):
    result = boot(tmp_path, TRM_CMD_SCHEMA_APPLY="exit 7")
    assert result.returncode == 7
    assert "[entrypoint] FAILED at step 3/5 (schema apply) with exit code 7" in result.stdout
    assert "Directus was not started" in result.stdout
    assert (tmp_path / "trace").read_text().split() == ["preflight", "pre", "bootstrap"]


def test_failing_first_step_never_reaches_start(tmp_path):
    result = boot(tmp_path, TRM_CMD_MIGRATE_PRE="false")
    assert result.returncode == 1
    assert "FAILED at step 1/5 (db-init pre-schema)" in result.stdout
    assert (tmp_path / "trace").read_text().split() == ["preflight"]


def test_failing_preflight_stops_before_any_step(tmp_path):
    result = boot(tmp_path, TRM_CMD_PREFLIGHT="false")
    assert result.returncode == 1
    assert "FAILED at preflight" in result.stdout
    assert not (tmp_path / "trace").exists()


def test_entrypoint_is_stored_with_lf_endings():
    assert b"\r\n" not in ENTRYPOINT.read_bytes()
    attrs = subprocess.run(["git", "check-attr", "eol", "image/entrypoint.sh"], capture_output=True, text=True, cwd=REPO).stdout
    assert attrs.strip().endswith("eol: lf")
