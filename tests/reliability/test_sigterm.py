"""A cancelled CI job (SIGTERM) must not leave PostgreSQL, Redis or Directus running.

The process under test gets an environment variable with a unique tag; every process it starts
inherits it, so the test finds exactly its leftovers among the machine's other stacks.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reliability.faults import processes_tagged

pytestmark = [pytest.mark.integration, pytest.mark.directus]


class Watched:
    """A subprocess whose stderr is collected line by line while it runs."""

    def __init__(self, argv: list[str], tag: str) -> None:
        env = {**os.environ, "TRM_FAULT_TAG": tag, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in ln for ln in self.lines):
            assert self.proc.poll() is None, "".join(self.lines[-30:])
            assert time.monotonic() < deadline, f"never saw {text!r}:\n{''.join(self.lines[-30:])}"
            time.sleep(0.2)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def leftovers(tag: str, grace: float = 20) -> list[tuple[int, str]]:
    deadline = time.monotonic() + grace
    while (found := processes_tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def kill_all(found: list[tuple[int, str]]) -> None:
    for pid, _ in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def dirs_in(output: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"initdb (\S+)/data", output)]


@pytest.mark.fault("SIGTERM to a command with a throw-away stack")
def test_sigterm_to_seed_verify_during_boot_stops_every_process(fault_report):
    tag = uuid.uuid4().hex
    run = Watched([sys.executable, "-m", "trm_directus", "seed", "--verify"], tag)
    try:
        run.wait_for("boot #1", timeout=600)  # PostgreSQL and Redis run, the entrypoint is booting Directus
        time.sleep(2)
        running = len(processes_tagged(tag))
        t0 = time.monotonic()
        run.proc.send_signal(signal.SIGTERM)
        rc = run.proc.wait(timeout=120)
        took = time.monotonic() - t0
        left = leftovers(tag)
        assert left == [], left
    finally:
        kill_all(processes_tagged(tag))
    assert rc == 1 and "FAILED: interrupted by SIGTERM" in run.output
    assert dirs_in(run.output) and not any(d.exists() for d in dirs_in(run.output))
    fault_report.outcome = (
        f"`seed --verify` got SIGTERM while its stack booted ({running} processes): exit 1 after {took:.1f}s "
        "'interrupted by SIGTERM', stack stopped and purged, 0 processes left"
    )
    fault_report.data_lost = "none (throw-away stack)"


TEST_FILE = """
import pytest
from trm_directus.stacks.native import NativeStack


@pytest.fixture(scope="module")
def stack():
    with NativeStack() as s:
        yield s


def test_uses_both(pg_cluster, stack):
    pass
"""


@pytest.mark.fault("SIGTERM to pytest with stack fixtures")
def test_sigterm_to_pytest_tears_the_fixtures_down(tmp_path, fault_report):
    tag = uuid.uuid4().hex
    test_file = tmp_path / "test_cancelled.py"
    test_file.write_text(TEST_FILE)
    run = Watched(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-s", "-q", "--rootdir", str(tmp_path), str(test_file)], tag
    )
    try:
        run.wait_for("boot #1", timeout=600)  # pg_cluster is up, the stack fixture is booting Directus
        running = len(processes_tagged(tag))
        t0 = time.monotonic()
        run.proc.send_signal(signal.SIGTERM)
        rc = run.proc.wait(timeout=120)
        took = time.monotonic() - t0
        left = leftovers(tag)
        assert left == [], left
    finally:
        kill_all(processes_tagged(tag))
    assert rc != 0
    assert dirs_in(run.output) and not any(d.exists() for d in dirs_in(run.output))
    fault_report.outcome = (
        f"pytest got SIGTERM while the stack fixture booted ({running} processes, pg_cluster up too): exit {rc} after "
        f"{took:.1f}s, both fixtures torn down, 0 processes left"
    )
    fault_report.data_lost = "none (throw-away stacks)"
