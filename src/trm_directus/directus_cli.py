"""Running Directus's own CLI (`bootstrap`, `schema snapshot`, `schema apply`) from Python.

The command comes from TRM_DIRECTUS_CLI (image default: `node /directus/cli.js`; native stacks
point it at the cached install's run.js). Every call pays a full Directus start-up (seconds), so
callers avoid calls that cannot change anything. Exit codes are not trusted (lessons.md): callers
check the output and the database.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass

from . import console
from .errors import StackError

DEFAULT_CLI = "node /directus/cli.js"


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    output: str
    seconds: float


def command() -> list[str]:
    return shlex.split(os.environ.get("TRM_DIRECTUS_CLI", DEFAULT_CLI))


def run(*args: str, echo: bool = True, timeout: float = 600) -> CliResult:
    """Run the Directus CLI, echoing its output line by line (it is the boot log), and return it."""
    argv = [*command(), *args]
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise StackError(
            f"cannot run the Directus CLI: {argv[0]} not found", "set TRM_DIRECTUS_CLI to the Directus CLI command"
        ) from None
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            console.info(f"   | {line.rstrip()}")
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    return CliResult(argv, rc, "".join(lines), time.monotonic() - t0)


def require_ok(result: CliResult, step: str, *, must_contain: str | None = None) -> None:
    if result.returncode != 0 or (must_contain and must_contain not in result.output):
        tail = "\n".join(result.output.splitlines()[-30:])
        why = f"exit code {result.returncode}" if result.returncode else f"its output lacks {must_contain!r}"
        raise StackError(
            f"Directus CLI `{' '.join(result.args[-3:])}` failed ({why})", "see its output below", step=step, log_tail=tail
        )
