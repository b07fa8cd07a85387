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

import atexit
import contextlib
import json
import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
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


# Warm CLI processes (issue 23): every CLI call loads Directus's modules first (~2.5 s of one core).
# `prewarm(n)` starts a process for the next call now, running warm.mjs, which loads them and waits for
# the call's arguments on stdin; each call that takes one starts the next, n in all. A boot on an empty
# database prewarms its bootstrap during db-init and its schema apply during the bootstrap (boot/steps.py).
WARM_SCRIPT = Path(__file__).with_name("warm.mjs")
_spares: list[subprocess.Popen] = []
_refills = 0


def warm_possible() -> bool:
    """Whether calls can be prewarmed: the CLI is `<node> <entry script>` (TRM_DIRECTUS_WARM=0 turns it off)."""
    cli = command()
    return (
        os.environ.get("TRM_DIRECTUS_WARM", "1") != "0"
        and len(cli) == 2
        and Path(cli[0]).name.startswith("node")
        and cli[1].endswith(".js")
    )


def prewarm(calls: int) -> None:
    """Have the next `calls` CLI calls find their process started (each one's while the previous runs)."""
    global _refills
    if calls <= 0 or not warm_possible():
        return
    _refills = calls - 1
    if not _spares:
        _spawn_spare()


def _spawn_spare() -> None:
    node, entry = command()
    _spares.append(_popen([node, str(WARM_SCRIPT), entry], stdin=subprocess.PIPE))


def discard_spares() -> None:
    """Stop prewarmed processes no call took (their input closes: they exit without doing anything)."""
    global _refills
    _refills = 0
    while _spares:
        spare = _spares.pop()
        with contextlib.suppress(OSError):
            spare.stdin.close()  # type: ignore[union-attr]
        try:
            spare.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _stop(spare)
        if spare.stdout:
            spare.stdout.close()


atexit.register(discard_spares)


def _popen(argv: list[str], *, stdin: int) -> subprocess.Popen:
    try:
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=stdin,
            start_new_session=True,  # so that a timeout stops Node and anything it started
            preexec_fn=signals.die_with_parent,
        )
    except FileNotFoundError:
        raise StackError(
            f"cannot run the Directus CLI: {argv[0]} not found", "set TRM_DIRECTUS_CLI to the Directus CLI command"
        ) from None


def _take_spare(args: tuple[str, ...]) -> subprocess.Popen | None:
    """A prewarmed process, told to run `args`; None when there is none (or it died: the call starts cold)."""
    global _refills
    if not _spares:
        return None
    spare = _spares.pop(0)
    try:
        if spare.stdin is None or spare.poll() is not None:
            raise OSError(f"it exited while waiting (exit code {spare.returncode})")
        spare.stdin.write(json.dumps(list(args)) + "\n")
        spare.stdin.close()
    except OSError as exc:
        output = spare.stdout.read() if spare.stdout and spare.poll() is not None else ""
        console.warn(f"a prewarmed Directus CLI could not be used ({exc}); starting one cold. Its output: {output[-500:]}")
        _stop(spare)
        return None
    if _refills > 0:
        _refills -= 1
        _spawn_spare()
    return spare


def run(*args: str, echo: bool = True, timeout: float | None = None) -> CliResult:
    """Run the Directus CLI, echoing its output line by line (it is the boot log), and return it."""
    timeout = deadlines.DIRECTUS_CLI.seconds() if timeout is None else timeout
    argv = [*command(), *args]
    t0 = time.monotonic()
    proc = _take_spare(args) or _popen(argv, stdin=subprocess.DEVNULL)
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
