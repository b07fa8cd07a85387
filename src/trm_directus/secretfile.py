"""Credentials: generated safe to pass on a command line; files created 0600 from their first byte, replaced
atomically, never chmod'ed later."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_MODE = 0o600


def new_secret(nbytes: int) -> str:
    """A random URL-safe secret of `nbytes` bytes that never starts with "-": one in 64 of
    `secrets.token_urlsafe` does, and `--token -x…` is then read as an option (argparse: "expected
    one argument"), which made CLI calls with a generated admin token fail at random."""
    while True:
        secret = secrets.token_urlsafe(nbytes)
        if not secret.startswith("-"):
            return secret


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only.

    The content goes to a fresh temporary file in the same directory, opened with O_CREAT|O_EXCL
    (never an existing file, never through a planted symbolic link) and mode 0600, so there is no
    moment at which another local account could read it; it then replaces `path` in one rename.
    Writing first and chmod'ing after would leave the secret world-readable in between.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
