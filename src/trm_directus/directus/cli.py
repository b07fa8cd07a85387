"""Running Directus's own CLI (`bootstrap`, `schema snapshot`, `schema apply`) from Python.

The command comes from TRM_DIRECTUS_CLI (image default: `node /directus/cli.js`; native stacks
point it at the cached install's run.js). Every call pays a full Directus start-up (seconds), so
callers avoid calls that cannot change anything. Exit codes are not trusted (lessons.md): callers
check the output and the database.

A call that runs past TRM_DIRECTUS_CLI_TIMEOUT_SECONDS (a hung CLI, a table lock it waits for) is
stopped with its whole process group, and the error names the call, its last output lines and
the database sessions that were waiting for locks at that moment.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO

from .. import console, deadlines, signals
from ..db import locks
from ..db.settings import DbSettings
from ..errors import ConfigError, StackError, WaitTimeout

DEFAULT_CLI = "node /directus/cli.js"


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    output: str
    seconds: float


def command() -> list[str]:
    return shlex.split(os.environ.get("TRM_DIRECTUS_CLI", DEFAULT_CLI))


def run(*args: str, echo: bool = True, timeout: float | None = None) -> CliResult:
    """Run the Directus CLI, echoing its output line by line (it is the boot log), and return it."""
    timeout = deadlines.DIRECTUS_CLI.seconds() if timeout is None else timeout
    argv = [*command(), *args]
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so that a timeout stops Node and anything it started
            preexec_fn=signals.die_with_parent,
        )
    except FileNotFoundError:
        raise StackError(
            f"cannot run the Directus CLI: {argv[0]} not found", "set TRM_DIRECTUS_CLI to the Directus CLI command"
        ) from None
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines, echo), daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        waits = _lock_waits()
        _stop(proc)
        reader.join(timeout=5)
        tail = "\n".join(line.rstrip() for line in lines[-20:]) or "(no output at all)"
        raise WaitTimeout(
            f"the Directus CLI `{' '.join(args[:2])}` did not finish within {timeout:g}s "
            f"({deadlines.DIRECTUS_CLI.setting}); it was stopped",
            "a Directus CLI call waits for the database: see the lock waits below (end a stuck session with "
            "SELECT pg_terminate_backend(pid)); if the call is only slow (a large upgrade), "
            f"raise {deadlines.DIRECTUS_CLI.setting}",
            details=f"its last output:\n{tail}\nlock waits in the database when it was stopped:\n{waits}",
        ) from None
    except BaseException:
        _stop(proc)  # interrupted (Ctrl-C, SIGTERM): the CLI must not run on alone
        raise
    reader.join(timeout=5)
    return CliResult(argv, rc, "".join(lines), time.monotonic() - t0)


def _pump(stream: IO[str], lines: list[str], echo: bool) -> None:
    for line in stream:
        lines.append(line)
        if echo:
            console.info(f"   | {line.rstrip()}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the CLI's process group: SIGTERM, then SIGKILL after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _lock_waits() -> str:
    try:
        dsn = DbSettings.from_env().dsn
    except ConfigError as exc:
        return f"(no database settings: {exc.what})"
    return locks.lock_waits(dsn)


def require_ok(result: CliResult, step: str, *, must_contain: str | None = None) -> None:
    if result.returncode != 0 or (must_contain and must_contain not in result.output):
        tail = "\n".join(result.output.splitlines()[-30:])
        why = f"exit code {result.returncode}" if result.returncode else f"its output lacks {must_contain!r}"
        raise StackError(
            f"Directus CLI `{' '.join(result.args[-3:])}` failed ({why})", "see its output below", step=step, log_tail=tail
        )
