"""SIGTERM handled like Ctrl-C, so stacks stop their processes and seeds undo their writes (CI cancels).

Python's default for SIGTERM ends the process on the spot: no `finally`, no context manager exit,
so a cancelled CI job left PostgreSQL, Redis and Directus running. `install()` turns the first
SIGTERM into `Terminated` (a KeyboardInterrupt, so everything that cleans up after Ctrl-C cleans up
after it too, pytest's fixture teardown included). `shielded()` keeps a second signal from cutting
a clean-up short. `die_with_parent` makes a child process end when the Python process that started
it is killed outright (kill -9), instead of running on unsupervised.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
import threading
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""

    def __str__(self) -> str:
        return "terminated (SIGTERM)"


def _raise_terminated(signum: int, frame: object) -> None:
    # Only the first SIGTERM interrupts; later ones must not interrupt the clean-up it started.
    signal.signal(signal.SIGTERM, _note_again)
    raise Terminated()


def _note_again(signum: int, frame: object) -> None:
    print("WARNING: SIGTERM again: still stopping (cleaning up what was started)", file=sys.stderr, flush=True)


def install() -> bool:
    """Make SIGTERM raise Terminated in the main thread, unless someone already handles it."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True


def name_of(exc: BaseException) -> str:
    """How a message names an interruption: 'SIGTERM' or 'Ctrl-C (SIGINT)'."""
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"


@contextlib.contextmanager
def shielded(what: str) -> Iterator[None]:
    """SIGINT and SIGTERM are noted, not raised, while `what` runs (an undo must not be cut short)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: object) -> None:
        print(f"WARNING: {signal.Signals(signum).name} received: finishing {what} first", file=sys.stderr, flush=True)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def die_with_parent() -> None:
    """preexec_fn for Popen: the child gets SIGTERM when its parent dies (Linux; a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stopped_by(exc: BaseException, doing: str, interrupted: str, where: str) -> tuple[str, str]:
    """What stopped a run that undoes its writes, as (message, details): an interruption, one of our
    errors, or anything unexpected (e.g. a response of the wrong shape) — never a traceback."""
    from .errors import TrmError  # errors does not import this module; the import stays local anyway

    if isinstance(exc, KeyboardInterrupt):
        return f"{interrupted} by {name_of(exc)} at {where}", ""
    if isinstance(exc, TrmError):
        return f"{doing} at {where}: {exc.what}", exc.details
    return f"{doing} at {where}: unexpected {type(exc).__name__}: {exc}", ""
