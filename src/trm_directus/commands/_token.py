"""Where a command's admin token comes from: the environment or a private file, never `ps`.

`--token VALUE` puts the token in the process's command line, which every local user reads with
`ps`; it still works (scripts written before this change keep running) but warns every time.
`--token-file PATH` reads it from a file that only its owner can read (0600 or stricter, not a
symlink: refused otherwise, naming the mode); `DIRECTUS_TOKEN` from the environment; else the dev
stack's own.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

from .. import console
from ..errors import ConfigError

WARNING = (
    "--token on the command line is visible to every local user (ps, /proc/PID/cmdline): "
    "use DIRECTUS_TOKEN=… in the environment or --token-file PATH (mode 0600) instead"
)


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token", help="admin token: avoid (visible in ps); prefer DIRECTUS_TOKEN or --token-file")
    p.add_argument("--token-file", type=Path, metavar="PATH", help="read the admin token from this file (mode 0600)")


def read_file(path: Path) -> str:
    """The token in `path`: a regular file of ours that group and others cannot read."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise ConfigError(
            f"--token-file {path}: no such file", "write the token into it: umask 077; printf %s TOKEN > FILE"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"--token-file {path}: not a regular file (a symlink or a device?)", "point it at the token file itself"
        )
    if st.st_mode & 0o077:
        raise ConfigError(
            f"--token-file {path}: mode {stat.S_IMODE(st.st_mode):04o} lets other users read the token",
            f"chmod 600 {path}",
        )
    if st.st_uid != os.geteuid():
        raise ConfigError(f"--token-file {path}: owned by another user (uid {st.st_uid})", "use a token file of your own")
    token = path.read_text().strip()
    if not token:
        raise ConfigError(f"--token-file {path}: empty", "write the admin token into it")
    return token


def resolve(args: argparse.Namespace) -> str | None:
    """--token-file, else --token (with the warning), else DIRECTUS_TOKEN; None leaves the dev stack's."""
    if getattr(args, "token_file", None):
        return read_file(args.token_file)
    if getattr(args, "token", None):
        console.warn(WARNING)
        return args.token
    return os.environ.get("DIRECTUS_TOKEN") or None
