"""N Directus instances of one native stack behind HAProxy: boot together, status, restart, rolling restart.

Every instance runs image/entrypoint.sh on the stack's PostgreSQL and Redis with the same settings
(one SECRET, PUBLIC_URL of the balancer). They are launched at once: the first to take the boot
lock runs steps 1-4, the others wait for it, find every step done and start (boot/steps.py). The
balancer's port is the stack's `directus` port, so `stack.url` is the one URL clients use; each
instance also answers on its own port (`directus-1`, `directus-2`, … in stack.json).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from .. import console
from ..errors import StackError
from ..services import proc
from ..services.balancer import Balancer
from . import bootlog, tally


def instance_names(count: int) -> list[str]:
    return [f"directus-{i}" for i in range(1, count + 1)]


class InstanceSet:
    """The Directus processes of a stack whose StackInfo says `balancer` (stack.json: instances, ports, pids)."""

    @classmethod
    def attach(cls, stack, instances: int | None, balancer: bool | None) -> InstanceSet | None:
        """The set of a stack behind HAProxy (`instances` None: as its stack.json records), else None."""
        if instances is not None:
            if instances < 1:
                raise StackError(f"--instances {instances}: a stack runs at least one Directus", "pass --instances 1 or more")
            stack.info.instances = instances
            stack.info.balancer = instances > 1 if balancer is None else balancer
        return cls(stack) if stack.info.balancer else None

    def __init__(self, stack) -> None:
        self.stack = stack
        info = stack.info
        self.names = instance_names(info.instances)
        missing = [name for name in self.names if name not in info.ports]
        taken = set(info.ports.values())
        fresh = [p for p in proc.free_ports(len(missing) + len(taken)) if p not in taken]
        info.ports.update(zip(missing, fresh, strict=False))
        for stale in [k for k in info.ports if k.startswith("directus-") and k not in self.names]:
            del info.ports[stale]  # an earlier, larger set: its ports are free again
        self.processes: dict[str, subprocess.Popen] = {}
        self.balancer = Balancer(stack.state_dir, stack.tree, info.ports["directus"])

    # -- what and where -----------------------------------------------------------------------------

    @property
    def ports(self) -> dict[str, int]:
        return {name: self.stack.info.ports[name] for name in self.names}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.stack.info.ports[name]}"

    def log(self, name: str) -> Path:
        """The first instance logs where a single Directus does (the stack's boot log)."""
        return self.stack.boot_log if name == self.names[0] else self.stack.logs_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        return self.stack.info.pids.get(name)

    def alive(self, name: str) -> bool:
        process = self.processes.get(name)
        return process.poll() is None if process is not None else proc.pid_alive(self.pid(name))

    # -- lifecycle ----------------------------------------------------------------------------------

    def launch(self, name: str) -> None:
        process = self.stack.launch(self.stack.info.ports[name], self.log(name))
        self.processes[name] = process
        self.stack.info.pids[name] = process.pid
        self.stack.info.save()

    def wait_healthy(self, name: str) -> float:
        try:
            return proc.wait_until(
                lambda: bootlog.health(self.url(name)) is not None,
                timeout=self.stack.health_timeout,
                step=name,
                log=self.log(name),
                alive=lambda: self.alive(name),
                interval=0.25,
            )
        except StackError:
            raise bootlog.failure(self.log(name), self.processes.get(name)) from None

    def boot(self, number: int = 1) -> None:
        """All instances at once (one builds the database, the others wait for its boot lock), then HAProxy."""
        t0 = time.monotonic()
        with console.step(f"boot #{number}: {len(self.names)} x image/entrypoint.sh -> HAProxy on {self.stack.url}"):
            for name in self.names:
                self.launch(name)
            for name in self.names:
                self.wait_healthy(name)
                console.info(f"   {name} healthy on {self.url(name)} after {console.fmt_seconds(time.monotonic() - t0)}")
            self.balancer.tree = self.stack.tree  # the upgrade gate may have switched checkouts
            self.stack.info.pids["haproxy"] = self.balancer.start(self.ports)
            self.stack.info.save()
            for name in self.names:
                self.balancer.wait_state(name, "UP", timeout=30)

    def stop_one(self, name: str) -> None:
        process = self.processes.pop(name, None)
        proc.terminate(process)
        if process is None:
            proc.terminate_pid(self.pid(name))
        self.stack.info.pids.pop(name, None)

    def stop(self) -> None:
        self.balancer.stop(self.stack.info.pids.pop("haproxy", None))
        for name in self.names:
            self.stop_one(name)

    def kill(self, name: str) -> int:
        """kill -9 the instance's process group (the fault tests); returns the pid killed."""
        pid = self.pid(name)
        if pid is None:
            raise StackError(f"{name} has no recorded pid", "start the stack first")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        process = self.processes.get(name)
        if process is not None:
            process.wait(timeout=10)
        return pid

    def restart(self, name: str) -> float:
        """Stop (if running) and start one instance; returns once it is healthy and HAProxy has it UP again."""
        t0 = time.monotonic()
        self.stop_one(name)
        tally.record("restart")
        self.launch(name)
        self.wait_healthy(name)
        if self.balancer.states().get(name) == "MAINT":
            self.balancer.set_state(name, "ready")
        self.balancer.wait_state(name, "UP", timeout=30)
        return time.monotonic() - t0

    def rolling_restart(self, drain_timeout: float = 15) -> list[tuple[str, float]]:
        """One instance at a time: out of the balancer, its open requests finished, restarted, healthy, back in."""
        took = []
        for name in self.names:
            with console.step(f"rolling restart: {name}"):
                self.balancer.wait_state(name, "UP", timeout=30)  # the previous one is serving again before this one leaves
                self.balancer.set_state(name, "maint")
                proc.wait_until(
                    lambda name=name: self.balancer.stat().get(name, {}).get("scur") == "0",
                    timeout=drain_timeout,
                    step=f"haproxy: {name} drained",
                    log=self.balancer.log,
                )
                took.append((name, self.restart(name)))
        return took

    # -- state --------------------------------------------------------------------------------------

    def status(self) -> list[dict]:
        """One row per instance: name, direct URL, pid, process alive, Directus health, HAProxy's view."""
        states = self.balancer.states()
        rows = []
        for name in self.names:
            doc = bootlog.health(self.url(name)) if self.alive(name) else None
            rows.append(
                {
                    "name": name,
                    "url": self.url(name),
                    "pid": self.pid(name),
                    "running": self.alive(name),
                    "health": (doc or {}).get("status", "no answer"),
                    "balancer": states.get(name, "no answer"),
                }
            )
        return rows

    def running(self) -> dict[str, bool]:
        found = {name: bootlog.health(self.url(name)) is not None for name in self.names}
        found["haproxy"] = proc.pid_alive(self.stack.info.pids.get("haproxy")) and bool(self.balancer.stat())
        return found
