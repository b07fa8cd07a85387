"""`bench drift-floor`: Directus 11.17.4's own CLI doing the drift gate's work, next to the gate, in one run.

The floor is what any gate built on Directus's CLI pays for the same proof, each step timed:
1. a fresh database: a new PostgreSQL cluster (initdb, as stacks make them, TimescaleDB preloaded
   where installed), the database with PostGIS (the snapshot's geometry columns need it), Redis;
2. `directus bootstrap`;
3. `directus schema apply --yes snapshots/schema.yaml`;
4. `directus start` until /server/health answers (with the built extensions and the same settings
   a stack gives Directus: the gate cannot start Directus without them either);
5. `directus schema snapshot` of the running instance;
6. a restart until healthy.
No db-init, no access or UI artifacts, no checks: only what Directus itself does. The gate
(`drift.gate`, what `nox -s drift` runs) is measured in the same run, alternating with the floor so
both see the same load; the report gives both medians, the ratio gate / floor, and every step.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

import psycopg

from .. import console, paths
from ..directus.extensions import install_all
from ..errors import StackError
from ..services import proc
from ..stacks.native import NativeStack, health

STEPS = ("fresh database", "bootstrap", "schema apply", "start", "schema snapshot", "restart")
TARGETS: dict[str, tuple[float | None, str]] = {
    "drift_floor_s": (None, "Directus CLI floor: fresh database, bootstrap, schema apply, start, snapshot, restart"),
    "drift_floor_gate_s": (None, "the drift gate end to end, alternating with the floor (medians)"),
    "drift_floor_ratio": (1.0, "drift gate / Directus CLI floor (×)"),
    **{f"drift_floor_{s.replace(' ', '_')}_s": (None, f"floor step: {s}") for s in STEPS},
}


class Floor:
    """The floor's run on a throw-away stack's PostgreSQL and Redis, with Directus driven by its own CLI."""

    def __init__(self, stack: NativeStack) -> None:
        self.stack = stack
        self.timings: dict[str, float] = {}
        self.log = stack.logs_dir / "floor.log"

    def cli(self, *args: str, must_contain: str) -> None:
        env = self.stack.boot_env()
        with open(self.log, "a") as log:
            result = subprocess.run(
                [*self.stack.install.cli_command(), *args], cwd=self.stack.install.root, env=env, stdout=log, stderr=log
            )
        if result.returncode != 0 or must_contain not in self.log.read_text(errors="replace"):
            raise StackError(f"directus {' '.join(args[:2])} failed (exit {result.returncode})", "see the log tail",
                             log_tail=proc.tail(self.log, 30))  # fmt: skip

    def start(self) -> subprocess.Popen:
        with open(self.log, "a") as log:
            directus = subprocess.Popen(
                [*self.stack.install.cli_command(), "start"],
                cwd=self.stack.install.root,
                env=self.stack.boot_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.wait_until(lambda: health(self.stack.url) is not None, timeout=300, step="directus start", log=self.log,
                        alive=lambda: directus.poll() is None, interval=0.25)  # fmt: skip
        return directus

    def timed(self, step: str, fn) -> object:
        t0 = time.monotonic()
        result = fn()
        self.timings[step] = time.monotonic() - t0
        return result

    def run(self, snapshot_path: Path) -> dict[str, float]:
        def fresh() -> None:
            self.stack.start(boot=False)  # initdb, PostgreSQL, the database, Redis
            with psycopg.connect(self.stack.info.dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            self.stack.logs_dir.mkdir(parents=True, exist_ok=True)
            install_all(self.stack.extensions_src, self.stack.extensions_dir)

        self.timed("fresh database", fresh)
        self.timed("bootstrap", lambda: self.cli("bootstrap", must_contain="Done"))
        self.timed("schema apply", lambda: self.cli("schema", "apply", "--yes", str(snapshot_path),
                                                    must_contain="Snapshot applied successfully"))  # fmt: skip
        directus = self.timed("start", self.start)
        out = self.stack.state_dir / "floor-snapshot.yaml"
        self.timed("schema snapshot", lambda: self.cli("schema", "snapshot", "--yes", "--format", "yaml", str(out),
                                                       must_contain="Snapshot saved"))  # fmt: skip
        proc.terminate(directus)
        directus = self.timed("restart", self.start)
        proc.terminate(directus)
        self.timings["total"] = sum(self.timings[s] for s in STEPS)
        return self.timings


def floor_once(snapshot_path: Path) -> dict[str, float]:
    stack = NativeStack()  # started by the floor's first step, not here: that is part of the floor
    try:
        return Floor(stack).run(snapshot_path)
    finally:
        stack.stop(purge=True)


def bench(repeat: int = 3) -> dict[str, object]:
    from ..gates import drift

    root = paths.repo_root()
    snapshot_path, db_init = root / "snapshots" / "schema.yaml", root / "db-init"
    floors, gates = [], []
    for i in range(max(1, repeat)):
        with console.step(f"drift floor: Directus's own CLI, run {i + 1}"):
            floors.append(floor_once(snapshot_path))
        with console.step(f"drift gate (what `nox -s drift` runs), run {i + 1}"):
            report = drift.gate(snapshot_path, db_init, root=root)
        if not report.clean:
            raise RuntimeError("the drift gate found drift: benchmark it on a clean tree")
        gates.append(report.timings)
    floor = statistics.median(f["total"] for f in floors)
    gate = statistics.median(g["total"] for g in gates)
    for step in STEPS:
        console.out(f"floor {step:<16} {statistics.median(f[step] for f in floors):6.1f}s")
    for step in gates[0]:
        console.out(f"gate  {step:<16} {statistics.median(g[step] for g in gates):6.1f}s")
    console.out(f"drift gate {gate:.1f}s / Directus CLI floor {floor:.1f}s = {gate / floor:.2f}x (medians of {len(floors)})")
    return {
        "drift_floor_s": floor,
        "drift_floor_gate_s": gate,
        "drift_floor_ratio": gate / floor,
        **{f"drift_floor_{s.replace(' ', '_')}_s": statistics.median(f[s] for f in floors) for s in STEPS},
        "drift_floor_all": [f["total"] for f in floors],
        "drift_floor_gate_all": [g["total"] for g in gates],
    }
