"""Four containers boot at once on one empty database: each step runs once, all four come up."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import query
from trm_directus import bootstrap, migrations
from trm_directus.schema.apply import MSG_UNCHANGED
from trm_directus.stacks import proc
from trm_directus.stacks.native import NativeStack, health

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.slow]

BOOTS = 4


def steps_ms(log: str) -> dict[str, int]:
    return {n: int(ms) for n, ms in re.findall(r"^\[entrypoint\] (\d)/5 .+ done in (\d+)ms$", log, re.MULTILINE)}


def step_ms(log: str) -> int:
    return sum(steps_ms(log).values())


@pytest.mark.timeout(1200)  # four full boots at once on two cores, each allowed 900 s to come up
@pytest.mark.fault("4 concurrent boots on one empty database")
def test_four_concurrent_boots_build_the_database_once_and_all_come_up(fault_report):
    stack = NativeStack()
    procs = []
    try:
        stack.start(boot=False)
        ports = [stack.info.ports["directus"], *[p for p in proc.free_ports(BOOTS + 3) if p not in stack.info.ports.values()]]
        ports = ports[:BOOTS]
        logs = [stack.logs_dir / f"boot-{i}.log" for i in range(BOOTS)]
        t0 = time.monotonic()
        procs = [stack.launch(port, log) for port, log in zip(ports, logs, strict=True)]
        for port, p, log in zip(ports, procs, logs, strict=True):
            proc.wait_until(
                lambda port=port: health(f"http://127.0.0.1:{port}") is not None,
                timeout=900,
                step=f"directus on {port}",
                log=log,
                alive=lambda p=p: p.poll() is None,
                interval=0.5,
            )
        took = time.monotonic() - t0
        out = [log.read_text() for log in logs]
        assert all(health(f"http://127.0.0.1:{port}") == {"status": "ok"} for port in ports)

        dsn = stack.info.dsn
        files = migrations.discover(stack.db_init_dir)
        ledger = query(dsn, f"SELECT file_name FROM {migrations.LEDGER} ORDER BY number")
        assert [r[0] for r in ledger] == [f.name for f in files]
        versions = bootstrap.migration_versions(stack.install.migrations_dir, None)
        recorded = query(dsn, "SELECT count(*), count(DISTINCT version) FROM directus_migrations")[0]
        assert recorded == (len(versions), len(versions))
        assert query(dsn, "SELECT count(*) FROM directus_users WHERE email = %s", (stack.info.admin_email,))[0][0] == 1

        pre = sum(f.phase == "pre" for f in files)
        post = len(files) - pre
        assert sorted(f"db-init pre: {pre} applied" in o for o in out) == [False] * 3 + [True]
        assert sum("db-init pre: 0 applied" in o for o in out) == 3
        assert sum(f"db-init post: {post} applied" in o for o in out) == 1
        assert sum("db-init post: 0 applied" in o for o in out) == 3
        assert sum("Installing Directus system tables" in o for o in out) == 1
        assert sum("bootstrap has nothing to do, skipped" in o for o in out) == 3
        assert sum("Snapshot applied successfully" in o for o in out) == 1
        assert sum(MSG_UNCHANGED in o for o in out) == 3
        waiters = [o for o in out if "each step re-checks the database" in o]
        assert len(waiters) == 3 and all("waiting for the boot lock" in o for o in waiters)
        first = next(o for o in out if o not in waiters)
        recheck = max(step_ms(o) for o in waiters) / 1000
        per_step = "/".join(f"{max(steps_ms(o)[n] for o in waiters) / 1000:.1f}" for n in "1234")
        fault_report.outcome = (
            f"all {BOOTS} healthy after {took:.0f}s; one boot built the database (steps 1-4 {step_ms(first) / 1000:.1f}s): "
            f"bootstrap 1x, schema applied 1x, each db-init file 1x ({len(ledger)} ledger rows), {recorded[0]} "
            f"directus_migrations rows, no duplicates; the 3 others waited for the boot lock, then re-checked and "
            f"skipped every step (at most {recheck:.1f}s each; steps 1/2/3/4 at most {per_step}s)"
        )
        fault_report.data_lost = "none (nothing applied twice)"
    finally:
        for p in procs:
            proc.terminate(p)
        stack.stop(purge=True)
