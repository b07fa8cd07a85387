"""Progress output: what is happening and how long it took, on stderr; results go to stdout."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


def info(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", file=sys.stderr, flush=True)


def out(msg: str = "") -> None:
    print(msg, flush=True)


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds >= 0.1 else f"{seconds * 1000:.0f}ms"


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Announce a long step, then report its duration, or that it failed and after how long."""
    info(f"-> {what} ...")
    t0 = time.monotonic()
    try:
        yield
    except BaseException:
        info(f"!! {what}: failed after {fmt_seconds(time.monotonic() - t0)}")
        raise
    info(f"ok {what} ({fmt_seconds(time.monotonic() - t0)})")
