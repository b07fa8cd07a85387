"""A native Directus's boot, read from outside: its health document, the entrypoint's markers, the failure they name."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

from ..errors import StackError
from ..services import proc

MARKER = re.compile(r"^\[entrypoint\] (.*)$", re.MULTILINE)


def health(url: str, timeout: float = 2.0) -> dict | None:
    """Directus's /server/health document when it answers 200, else None."""
    try:
        with urllib.request.urlopen(f"{url}/server/health", timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}") if resp.status == 200 else None
    except (OSError, ValueError):
        return None


def markers(log: str) -> list[str]:
    """The `[entrypoint] …` lines of a boot log, in order."""
    return MARKER.findall(log)


def failure(log_path: Path, process: subprocess.Popen | None) -> StackError:
    """The error for a boot that did not become healthy: the step that failed (or the last one reached)."""
    found = markers(log_path.read_text(errors="replace") if log_path.exists() else "")
    failed = next((m for m in reversed(found) if m.startswith("FAILED")), None)
    last_step = failed or (found[-1] if found else "before the first entrypoint marker")
    code = process.poll() if process else None
    what = (
        f"Directus boot failed: {failed}"
        if failed
        else f"Directus did not become healthy (last step: {last_step}; exit code {code})"
    )
    return StackError(what, f"full log: {log_path}", step=f"entrypoint ({last_step})", log_tail=proc.tail(log_path, 40))
