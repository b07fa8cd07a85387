"""A private Redis server from the OS packages on a free port (cache and rate-limit store, no persistence)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from .. import console
from ..errors import StackError
from . import proc


def _ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


class RedisServer:
    def __init__(self, base_dir: Path, port: int | None = None) -> None:
        self.dir = Path(base_dir) / "redis"
        self.port = port
        self.log = self.dir / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise StackError("redis-server is not installed", "apt-get install redis-server")
        self.dir.mkdir(parents=True, exist_ok=True)
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
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
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
                lambda: _ping(self.port), timeout=timeout, step="redis", log=self.log, alive=lambda: self.process.poll() is None
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        proc.terminate(self.process)
