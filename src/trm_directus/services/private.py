"""Private directories and files for stacks, safe when running as root on a shared machine.

A directory with a predictable name under /tmp may have been created by someone else, with a
symlink inside that turns "write the password file" or "chown the data directory" into writing
or chowning a file of the attacker's choice. So:
- throw-away directories are fresh (`fresh_dir`: mkdtemp, random name, mode 0700);
- a directory we reuse (`ensure_dir`) must be a real directory (not a symlink) owned by root or
  the stack's user; if its mode lets others in, it is tightened to 0700 (it is ours), and anything
  else is refused with a message naming the owner;
- files holding secrets are created new with mode 0600 and O_NOFOLLOW (`write_secret`);
- handing a tree to the stack's user never follows symlinks (`give_to`);
- lock files in a cache are opened without following symlinks or truncating, and waited for
  within a deadline that names the holder (`file_lock`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .. import console
from ..errors import StackError, WaitTimeout


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def allowed_owners(user: str | None) -> set[int]:
    owners = {os.geteuid()}
    if user:
        owners.add(pwd.getpwnam(user).pw_uid)
    return owners


def fresh_dir(prefix: str, parent: Path | None = None) -> Path:
    """A new directory with a random name and mode 0700 (never an existing one)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def check_dir(path: Path, user: str | None = None, *, tighten: bool = True) -> None:
    """Refuse `path` unless it is a real directory owned by us or `user`; make it 0700 if it is looser."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise StackError(
            f"refusing to use {path}: it is a symbolic link (to {os.readlink(path)})",
            "a stack's private directory must be a real directory; remove the link (someone else may have planted it)",
        )
    if not stat.S_ISDIR(st.st_mode):
        raise StackError(f"refusing to use {path}: it is not a directory", "remove it or choose another state directory")
    if st.st_uid not in allowed_owners(user):
        raise StackError(
            f"refusing to use {path}: it belongs to {_owner_name(st.st_uid)}, not to {_owner_name(os.geteuid())}"
            + (f" or {user}" if user else ""),
            "someone else created it: a stack never reuses a directory it does not own; remove it (after checking it) "
            "or choose another state directory",
        )
    if st.st_mode & 0o077:
        if not tighten:
            raise StackError(f"refusing to use {path}: mode {stat.S_IMODE(st.st_mode):04o} lets other users in", "chmod 700 it")
        os.chmod(path, 0o700, follow_symlinks=False)


def ensure_dir(path: Path, user: str | None = None) -> Path:
    """`path` as a private directory (0700): created if missing, checked (see check_dir) if present."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        check_dir(path, user)
    return path


def ensure_shared_root(path: Path) -> Path:
    """A root-owned parent directory (0755) for private per-stack directories: never writable by others."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise StackError(
                f"refusing to use {path}: it must be a real directory owned by {_owner_name(os.geteuid())} and writable "
                f"only by it (found owner {_owner_name(st.st_uid)}, mode {stat.S_IMODE(st.st_mode):04o})",
                "fix its owner and mode, or point TRM_PG_DATA_ROOT elsewhere",
            ) from None
    return path


def write_secret(path: Path, text: str) -> None:
    """Create `path` (which must not exist) with mode 0600 and write `text`; never through a symlink.
    (secretfile.write_private replaces a file atomically instead, for files rewritten at every boot.)"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def give_to(path: Path, user: str) -> None:
    """chown a tree to `user` without following symlinks (a planted link must not redirect the chown)."""
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in dirs + files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)


@contextlib.contextmanager
def file_lock(path: Path, what: str, timeout: float) -> Iterator[None]:
    """An exclusive lock on `path` (created 0600, never through a symlink, never truncated), waited for
    at most `timeout` seconds; the holder's pid is written into it so a wait can name it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        t0 = time.monotonic()
        reported = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                now = time.monotonic()
                if now - t0 >= timeout:
                    raise WaitTimeout(
                        f"gave up waiting for the {what} ({path}) after {timeout:g}s: held by pid {holder}",
                        "another process is installing or building the same thing; if that process is gone or stuck, "
                        "stop it and retry",
                    ) from None
                if reported is None or now - reported >= 20:
                    reported = now
                    console.info(f"waiting for the {what} held by pid {holder} ({now - t0:.0f}s of {timeout:g}s)")
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
