"""Process helpers for native services: free ports, unprivileged users, log tails, waiting."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import StackError
from . import private

UNPRIVILEGED_USER = os.environ.get("TRM_STACK_USER", "postgres")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports. All are held bound until every one is chosen: picking them one at a
    time can return the same port twice (seen: Postgres and Redis of one stack on one port)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def is_root() -> bool:
    return os.geteuid() == 0


def as_user_prefix() -> list[str]:
    """Command prefix that drops root to the unprivileged user (PostgreSQL refuses to run as root)."""
    if not is_root():
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise StackError(
            f"running as root and there is no user {UNPRIVILEGED_USER!r} to run PostgreSQL as",
            "install the postgresql package (it creates the postgres user), or set TRM_STACK_USER to an unprivileged user",
        ) from None
    runuser = shutil.which("runuser")
    if not runuser:
        raise StackError("running as root and `runuser` is missing", "install util-linux or run as an unprivileged user")
    return [runuser, "-u", UNPRIVILEGED_USER, "--"]


def give_to_user(path: Path) -> None:
    """Hand a directory over to the unprivileged user when running as root (symlinks are never followed)."""
    if is_root():
        private.give_to(path, UNPRIVILEGED_USER)


def stack_user() -> str | None:
    """The user that owns the stack's PostgreSQL files: the unprivileged user as root, else ourselves."""
    return UNPRIVILEGED_USER if is_root() else None


def user_can_reach(path: Path) -> bool:
    """True when the unprivileged user can traverse every parent of `path` (only matters as root)."""
    if not is_root():
        return True
    pw = pwd.getpwnam(UNPRIVILEGED_USER)
    for parent in [*reversed(path.resolve().parents)]:
        st = parent.stat()
        if st.st_uid == pw.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == pw.pw_gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
    return True


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run(
    cmd: Sequence[str],
    *,
    step: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; a failure raises StackError with the step and the output tail."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise StackError(
            f"{step}: timed out after {timeout:.0f}s",
            "see the log tail below",
            step=step,
            log_tail=tail(log) if log else str(exc.output or "")[-3000:],
        ) from None
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        tail_text = "\n".join(output.splitlines()[-30:])
        if log:
            tail_text = f"{tail_text}\n{tail(log)}".strip()
        raise StackError(
            f"{step}: exit code {proc.returncode}: {' '.join(map(str, cmd[:6]))}",
            "see the log tail below",
            step=step,
            log_tail=tail_text,
        )
    return proc


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    step: str,
    log: Path | None = None,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.2,
) -> float:
    """Poll `check` until true; fail with the log tail on timeout or when `alive` says the process died."""
    t0 = time.monotonic()
    while True:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - t0
        if alive is not None and not alive():
            raise StackError(
                f"{step}: the process exited before it was ready",
                "see the log tail below",
                step=step,
                log_tail=tail(log) if log else "",
            )
        if time.monotonic() - t0 > timeout:
            raise StackError(
                f"{step}: not ready after {timeout:.0f}s", "see the log tail below", step=step, log_tail=tail(log) if log else ""
            )
        time.sleep(interval)


def terminate(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """Stop a process group politely, then firmly."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=5)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def terminate_pid(pid: int | None, timeout: float = 15) -> None:
    """Stop a detached process group by pid (for stacks started by an earlier command)."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 15)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, 9)
