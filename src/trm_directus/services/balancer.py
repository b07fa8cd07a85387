"""HAProxy (Debian's `haproxy`) in front of a native stack's Directus instances, from image/haproxy.cfg.

The repository's one HAProxy file serves compose as it is; here its `compose-only` block is dropped
and its `servers` block becomes one `server` line per local instance. The bind address and the
admin socket come from the environment the file names. The admin socket answers `show stat`
(each server's state as HAProxy's health checks see it) and `set server … state` (a rolling restart
takes an instance out before stopping it).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import subprocess
from pathlib import Path

from .. import console
from ..errors import ConfigError, StackError
from . import proc

BACKEND = "directus"
CONFIG = Path("image") / "haproxy.cfg"


def render(text: str, blocks: dict[str, str], source: str = str(CONFIG)) -> str:
    """`text` with each `# NAME: begin` … `# NAME: end` block replaced by blocks[NAME] (indented like its markers)."""
    for name, body in blocks.items():
        pattern = re.compile(rf"^([ \t]*)# {re.escape(name)}: begin\n.*?^[ \t]*# {re.escape(name)}: end\n", re.M | re.S)
        found = pattern.search(text)
        if found is None:
            raise ConfigError(
                f"{source}: no `# {name}: begin` … `# {name}: end` block",
                "the native stack replaces that block; put the markers back around it",
            )
        indent = found.group(1)
        lines = "".join(f"{indent}{line}\n" for line in body.splitlines())
        text = text[: found.start()] + lines + text[found.end() :]
    return text


def server_lines(ports: dict[str, int]) -> str:
    """One health-checked `server` line per instance name → port on loopback."""
    return "\n".join(f"server {name} 127.0.0.1:{port} check" for name, port in ports.items())


def parse_stat(csv_text: str) -> dict[str, dict[str, str]]:
    """`show stat` CSV → {server name: row} for the Directus backend's servers."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("# ")))
    return {
        row["svname"]: row for row in reader if row.get("pxname") == BACKEND and row.get("svname") not in ("BACKEND", "FRONTEND")
    }


class Balancer:
    """One HAProxy process for a native stack: config and admin socket in the stack's directory."""

    def __init__(self, state_dir: Path, tree: Path, port: int) -> None:
        self.dir = Path(state_dir)
        self.tree = Path(tree)
        self.port = port
        self.config = self.dir / "haproxy.cfg"
        self.socket = self.dir / "haproxy.sock"
        self.log = self.dir / "logs" / "haproxy.log"
        self.process: subprocess.Popen | None = None

    def write_config(self, servers: dict[str, int]) -> Path:
        source = self.tree / CONFIG
        text = render(source.read_text(), {"compose-only": "", "servers": server_lines(servers)}, str(source))
        self.config.write_text(text)
        return self.config

    def env(self) -> dict[str, str]:
        return {"TRM_BALANCER_BIND": f"127.0.0.1:{self.port}", "TRM_BALANCER_SOCKET": str(self.socket)}

    def start(self, servers: dict[str, int], timeout: float = 20) -> int:
        """Start HAProxy for `servers` (name → port); returns its pid once its admin socket answers."""
        binary = shutil.which("haproxy")
        if not binary:
            raise StackError("haproxy is not installed", "apt-get install haproxy (or bash .ci/prereqs)")
        self.write_config(servers)
        env = {"PATH": "/usr/sbin:/usr/bin:/bin", **self.env()}
        check = subprocess.run([binary, "-c", "-q", "-f", str(self.config)], capture_output=True, text=True, env=env)
        if check.returncode != 0:
            raise StackError(f"haproxy refuses {self.config}", "fix image/haproxy.cfg", log_tail=check.stdout + check.stderr)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        with console.step(f"haproxy on 127.0.0.1:{self.port} -> {', '.join(f'{n}:{p}' for n, p in servers.items())}"):
            with open(self.log, "a") as log:
                # -db: stay in the foreground (we own the process); -W is not needed without reloads.
                self.process = subprocess.Popen(
                    [binary, "-db", "-f", str(self.config)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            proc.wait_until(
                lambda: bool(self.stat()),
                timeout=timeout,
                step="haproxy",
                log=self.log,
                alive=lambda: self.process.poll() is None,
            )
        return self.process.pid

    def command(self, line: str, timeout: float = 3.0) -> str:
        """One admin-socket command's answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def stat(self) -> dict[str, dict[str, str]]:
        """Each server's row of `show stat` ({} when HAProxy does not answer)."""
        try:
            return parse_stat(self.command("show stat"))
        except OSError:
            return {}

    def states(self) -> dict[str, str]:
        """Server name → HAProxy's status (UP, DOWN, MAINT, `UP 1/2` while rising, …)."""
        return {name: row.get("status", "") for name, row in self.stat().items()}

    def set_state(self, server: str, state: str) -> None:
        """`ready`, `drain` or `maint` for one server (the admin socket's `set server`)."""
        answer = self.command(f"set server {BACKEND}/{server} state {state}").strip()
        if answer:
            raise StackError(f"haproxy refused `set server {BACKEND}/{server} state {state}`: {answer}", "see its log")

    def wait_state(self, server: str, want: str, timeout: float) -> float:
        return proc.wait_until(
            lambda: self.states().get(server) == want, timeout=timeout, step=f"haproxy: {server} {want}", log=self.log
        )

    def stop(self, pid: int | None = None) -> None:
        proc.terminate(self.process)
        if self.process is None:
            proc.terminate_pid(pid)
        self.process = None
        self.socket.unlink(missing_ok=True)
