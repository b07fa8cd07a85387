"""A private Redis server from the OS packages on a free port: Directus's bus, and the durable recompute stream.

Durable like production's (image/compose.yaml): an append-only file, fsynced every second, in the
stack's directory, so a restart or a kill -9 keeps the stream `recompute:requests` (a reply to
XADD is sent after the entry is written to the file: only a machine crash can lose the last
second, and the outbox re-sends what the stream lost, extensions/README.md). No RDB snapshots.

Other local accounts cannot use it: it listens on 127.0.0.1 only and requires a password, which
is passed in a 0600 configuration file in the stack's private directory (never on the command
line, where `ps` would show it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .. import console, resp
from ..errors import StackError
from ..secretfile import new_secret
from . import private, proc


def ping(port: int, password: str | None) -> bool:
    """True when the server answers PING (after AUTH when a password is given)."""
    return resp.ping("127.0.0.1", port, password or "", timeout=0.5)


class RedisServer:
    def __init__(self, base_dir: Path, port: int | None = None, password: str | None = None) -> None:
        self.dir = Path(base_dir) / "redis"
        self.port = port
        self.password = password or new_secret(18)
        self.log = self.dir / "redis.log"
        self.conf = self.dir / "redis.conf"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise StackError("redis-server is not installed", "apt-get install redis-server")
        private.ensure_dir(self.dir)
        self.conf.unlink(missing_ok=True)  # the directory is ours and private: rewrite it afresh
        private.write_secret(self.conf, f"requirepass {self.password}\n")
        self.port = self.port or proc.free_port()
        try:
            self._start(binary, timeout)
        except StackError:
            if "Address already in use" not in proc.tail(self.log):
                raise
            # Someone took the port between choosing and binding it: choose again, once.
            self.port = proc.free_port()
            self._start(binary, timeout)

    def _start(self, binary: str, timeout: float) -> None:
        with console.step(f"redis on 127.0.0.1:{self.port}"):
            cmd = [
                binary,
                str(self.conf),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.dir),
                "--logfile",
                str(self.log),
                "--daemonize",
                "no",
            ]
            self.process = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
            proc.wait_until(
                lambda: ping(self.port, self.password),
                timeout=timeout,
                step="redis",
                log=self.log,
                alive=lambda: self.process.poll() is None,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        proc.terminate(self.process)
