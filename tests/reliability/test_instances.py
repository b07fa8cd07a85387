"""Three Directus instances behind HAProxy (`stack up --instances 3`) on one empty database.

One stack for the module, started as a developer does (the CLI, a state directory of its own):
the three boots build the database once; a schema or permission change made through one
instance is served by another within 2 s; a WebSocket subscription hears a write made elsewhere;
kill -9 of an instance and a rolling restart under a read/write loop through the balancer; the
outbox resend schedule runs once per tick in all, and every faulty flag reaches the stream once.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import execute, query, run_cli
from tests.integration.graph import Graph
from tests.integration.test_operations import T0, flag
from tests.reliability.traffic import Traffic
from trm_directus.boot import bootstrap
from trm_directus.dbinit.discovery import discover
from trm_directus.dbinit.ledger import LEDGER
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError
from trm_directus.processor import insert_positions, read_stream
from trm_directus.schema.apply import MSG_UNCHANGED
from trm_directus.services import proc
from trm_directus.services.node import ensure_directus
from trm_directus.stacks import select

pytestmark = [pytest.mark.integration, pytest.mark.directus]

INSTANCES = 3
SCHEDULE_RUN = 'select count(*) as "n" from "recompute_requests" where "sent_at" is null'
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC")


def steps_ms(log: str) -> dict[str, int]:
    return {n: int(ms) for n, ms in re.findall(r"^\[entrypoint\] (\d)/5 .+ done in (\d+)ms$", log, re.MULTILINE)}


@pytest.fixture(scope="module")
def scaled():
    """`stack up --instances 3` from an empty database; every statement logged from then on (the schedule count)."""
    state = Path(tempfile.mkdtemp(prefix="trm-scaled-"))
    env = {"TRM_STATE_DIR": str(state)}
    t0 = time.monotonic()
    up = run_cli(
        "stack", "up", "--backend", "native", "--instances", str(INSTANCES), "--port", str(proc.free_port()), env=env, timeout=900
    )
    stack = select.dev_stack(state)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        stack.booted_in, stack.cli_env, stack.install = time.monotonic() - t0, env, ensure_directus()
        execute(stack.info.dsn, "ALTER SYSTEM SET log_statement = 'all'")
        execute(stack.info.dsn, "SELECT pg_reload_conf()")
        stack.logging_since = datetime.now().astimezone()
        yield stack
    finally:
        if stack is not None:
            stack.stop(purge=True)
        shutil.rmtree(state, ignore_errors=True)


def direct(stack, number: int, token: str | None = None) -> Directus:
    """The REST API of one instance, not through the balancer."""
    return Directus(stack.scale.url(f"directus-{number}"), token or stack.info.admin_token)


@pytest.mark.timeout(900)  # pays the module's stack: three boots at once on an empty database, on two shared cores
@pytest.mark.fault("3 instances boot at once on an empty database")
def test_three_instances_booting_at_once_run_each_boot_step_once(scaled, fault_report):
    out = [scaled.scale.log(name).read_text() for name in scaled.scale.names]
    dsn = scaled.info.dsn
    files = discover(scaled.db_init_dir)
    ledger = query(dsn, f"SELECT file_name FROM {LEDGER} ORDER BY phase = 'post', number")
    assert [r[0] for r in ledger] == [f.name for f in files]
    versions = bootstrap.migration_versions(scaled.install.migrations_dir, None)
    assert query(dsn, "SELECT count(*), count(DISTINCT version) FROM directus_migrations")[0] == (len(versions), len(versions))
    pre = sum(f.phase == "pre" for f in files)
    assert sum(f"db-init pre: {pre} applied" in o for o in out) == 1
    assert sum("db-init pre: 0 applied" in o for o in out) == INSTANCES - 1
    assert sum(f"db-init post: {len(files) - pre} applied" in o for o in out) == 1
    assert sum("Installing Directus system tables" in o for o in out) == 1
    assert sum("bootstrap has nothing to do, skipped" in o for o in out) == INSTANCES - 1
    assert sum("Snapshot applied successfully" in o for o in out) == 1
    assert sum(MSG_UNCHANGED in o for o in out) == INSTANCES - 1
    waiters = [o for o in out if "each step re-checks the database" in o]
    assert len(waiters) == INSTANCES - 1
    recheck = max(sum(steps_ms(o).values()) for o in waiters) / 1000
    fault_report.outcome = (
        f"`stack up --instances {INSTANCES}`: all healthy behind HAProxy in {scaled.booted_in:.0f}s; one boot built the "
        f"database (bootstrap 1x, schema applied 1x, {len(ledger)} db-init files 1x); the others waited for the boot "
        f"lock and skipped every step (at most {recheck:.1f}s each)"
    )
    fault_report.data_lost = "none (nothing applied twice)"


def test_status_lists_every_instance_with_its_url_pid_and_health(scaled):
    text = run_cli("stack", "status", env=scaled.cli_env)
    doc = json.loads(run_cli("stack", "status", "--json", env=scaled.cli_env).stdout)
    assert text.returncode == 0, text.stdout + text.stderr
    assert doc["url"] == scaled.url and doc["health"] == "ok" and all(doc["running"].values())
    assert [r["name"] for r in doc["instances"]] == [f"directus-{i}" for i in range(1, INSTANCES + 1)]
    for row in doc["instances"]:
        assert (row["health"], row["balancer"], row["running"]) == ("ok", "UP", True)
        assert row["pid"] == scaled.info.pids[row["name"]] and row["url"] != scaled.url
        assert f"{row['name']:<11} {row['url']}  pid {row['pid']}  health ok  haproxy UP" in text.stdout
    print(text.stdout)


def until(check, seconds: float, interval: float = 0.05) -> float | None:
    """Seconds until check() held, or None if it did not within `seconds`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 <= seconds:
        if check():
            return time.monotonic() - t0
        time.sleep(interval)
    return None


def answers(call) -> bool:
    try:
        call()
        return True
    except DirectusError:
        return False


def test_a_field_added_through_one_instance_is_served_by_another_within_2s(scaled):
    a, b = direct(scaled, 1), direct(scaled, 2)
    read = lambda: b.get("/items/vehicles", fields="id,scale_probe", limit=1)  # noqa: E731
    assert not answers(read)  # B knows no such field yet
    a.post("/fields/vehicles", {"field": "scale_probe", "type": "string"})
    try:
        took = until(lambda: answers(read), 2.0)
        assert took is not None, "instance 2 did not serve the field added through instance 1 within 2 s"
        print(f"field served by instance 2 {took:.2f}s after instance 1 added it")
    finally:
        a.delete("/fields/vehicles/scale_probe")  # drift: the next boot's guarded schema apply would refuse it


def test_a_permission_removed_through_one_instance_is_enforced_by_another_within_2s(scaled):
    a = direct(scaled, 1)
    policy = a.post("/policies", {"name": "scale probe", "icon": "badge", "app_access": False, "admin_access": False})
    perm = a.post("/permissions", {"policy": policy["id"], "collection": "vehicles", "action": "read", "fields": ["id"]})
    token = f"scale-probe-{time.time_ns()}"
    user = a.post("/users", {"email": f"probe-{time.time_ns()}@example.com", "token": token})
    a.post("/access", {"user": user["id"], "policy": policy["id"]})
    b = direct(scaled, 2, token)
    try:
        assert until(lambda: answers(lambda: b.get("/items/vehicles", limit=1)), 2.0) is not None  # allowed, now cached on B
        a.delete(f"/permissions/{perm['id']}")
        took = until(lambda: not answers(lambda: b.get("/items/vehicles", limit=1)), 2.0)
        assert took is not None, "instance 2 still answered a read 2 s after instance 1 removed the permission"
        print(f"permission removal enforced by instance 2 {took:.2f}s after instance 1 made it")
    finally:  # access rules the file does not name would stop the next boot's access apply
        a.delete(f"/users/{user['id']}")
        a.delete(f"/policies/{policy['id']}")


def test_websocket_subscriptions_hear_an_item_created_through_another_instance(scaled):
    from websockets.sync.client import connect

    token, plate = scaled.info.admin_token, f"WS-{time.time_ns() % 10**12}"

    def subscribe(url: str):
        ws = connect(url.replace("http://", "ws://") + "/websocket", open_timeout=10)
        ws.send(json.dumps({"type": "auth", "access_token": token}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "auth", "status": "ok"}
        ws.send(json.dumps({"type": "subscribe", "collection": "vehicles", "uid": "v", "query": {"fields": ["plate"]}}))
        assert json.loads(ws.recv(timeout=10))["event"] == "init"
        return ws

    def heard(ws) -> list[str]:
        deadline, plates = time.monotonic() + 10, []
        while time.monotonic() < deadline and plate not in plates:
            msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") == "subscription" and msg.get("event") == "create":
                plates += [row.get("plate") for row in msg["data"]]
        return plates

    on_b, via_balancer = subscribe(scaled.scale.url("directus-2")), subscribe(scaled.url)
    with on_b, via_balancer:
        direct(scaled, 1).post("/items/vehicles", {"make": "Toyota", "model": "Hilux", "year": 2020, "cc": 2400, "plate": plate})
        assert plate in heard(on_b)
        assert plate in heard(via_balancer)  # HAProxy passes the upgrade and keeps the tunnel open


def written_once(stack, traffic: Traffic) -> tuple[int, int, int]:
    """(acknowledged writes, those found exactly once, unacknowledged writes found in the database)."""
    plates = traffic.acknowledged_plates()
    sql = "SELECT plate, count(*) FROM vehicles WHERE plate LIKE %s GROUP BY plate"
    rows = dict(query(stack.info.dsn, sql, (f"T{traffic.run_id}-%",)))
    unanswered = [a.plate for a in traffic.failed("write")]
    return len(plates), sum(rows.get(p) == 1 for p in plates), sum(p in rows for p in unanswered)


@pytest.mark.fault("kill -9 of 1 of 3 instances")
def test_kill_9_of_an_instance_fails_no_read_and_loses_no_acknowledged_write(scaled, fault_report):
    victim, balancer = "directus-2", scaled.scale.balancer
    with Traffic(scaled.url, scaled.info.admin_token) as traffic:
        time.sleep(3)
        scaled.scale.kill(victim)
        marked_down = until(lambda: balancer.states().get(victim, "").startswith("DOWN"), 15)
        time.sleep(2)
        back = scaled.scale.restart(victim)
        time.sleep(2)
    assert marked_down is not None, f"HAProxy did not mark {victim} down: {balancer.states()}"
    assert balancer.states()[victim] == "UP"
    assert traffic.of("read") and traffic.of("write")
    assert traffic.failed("read") == [], traffic.failed("read")[:5]
    acknowledged, once, committed = written_once(scaled, traffic)
    assert once == acknowledged
    fault_report.outcome = (
        f"{traffic.summary()}; {victim} marked down by HAProxy {marked_down:.1f}s after the kill, back UP "
        f"{back:.0f}s after its restart; every 2xx write in the database once ({once}/{acknowledged}); "
        f"unanswered writes committed anyway: {committed}/{len(traffic.failed('write'))}"
    )
    fault_report.data_lost = "none (no acknowledged write missing or doubled)"
    print(fault_report.outcome, [a.status for a in traffic.failed("write")])


@pytest.mark.slow  # three restarts one after the other (~90 s at load 5): `nox -s reliability` runs it
@pytest.mark.timeout(600)
@pytest.mark.fault("rolling restart of 3 instances")
def test_rolling_restart_fails_no_request(scaled, fault_report):
    with Traffic(scaled.url, scaled.info.admin_token) as traffic:
        time.sleep(2)
        t0 = time.monotonic()
        restart = run_cli("stack", "restart", "--rolling", env=scaled.cli_env, timeout=600)
        took = time.monotonic() - t0
        time.sleep(2)
    assert restart.returncode == 0, restart.stdout[-3000:] + restart.stderr[-3000:]
    assert traffic.failed("read") == [] and traffic.failed("write") == [], (traffic.failed("read") + traffic.failed("write"))[:5]
    acknowledged, once, _ = written_once(scaled, traffic)
    assert once == acknowledged > 0
    assert all(row["balancer"] == "UP" for row in scaled.scale.status())
    fault_report.outcome = f"`stack restart --rolling` in {took:.0f}s under {traffic.summary()}; each 2xx write once"
    fault_report.data_lost = "none"
    print(fault_report.outcome)


def schedule_runs(stack, since: datetime, until_: datetime) -> list[datetime]:
    """When the resend schedule's count query ran (PostgreSQL's statement log), between two times."""
    found = []
    for line in stack.postgres.log.read_text(errors="replace").splitlines():
        stamp = LOG_TIME.match(line)
        if stamp and SCHEDULE_RUN in line:
            at = datetime.fromisoformat(stamp.group(1) + "+00:00")
            if since <= at <= until_:
                found.append(at)
    return found


def test_the_resend_schedule_runs_once_per_tick_and_each_flag_reaches_the_stream_once(scaled):
    # Every statement since the stack came up (propagation, kill -9 and restart, the rolling restart when it ran).
    start = scaled.logging_since + timedelta(seconds=1)
    time.sleep(max(0.0, start.timestamp() + 34 - time.time()))  # a window of 30 s or more holds 2 ticks or more
    end = datetime.now().astimezone()
    runs = Counter(int(at.timestamp()) // 15 for at in schedule_runs(scaled, start, end))
    # Each tick in the window, but the last 3 s (its run may not be logged yet).
    expected = set(range(math.ceil(start.timestamp() / 15), int(end.timestamp() - 3) // 15 + 1))
    print(f"resend schedule: {sum(runs.values())} runs in {len(runs)} ticks over {(end - start).total_seconds():.0f}s")
    assert len(expected) >= 2 and expected <= set(runs), (sorted(expected), runs)  # none missed
    assert set(runs.values()) == {1}, runs  # once per tick in all, not once per instance

    # Flags through each instance: sent once. Pending requests (an XADD that failed): re-sent once by the schedule.
    api = direct(scaled, 1)
    imei = Graph(api).device()["imei"]
    insert_positions(scaled.info.dsn, imei, T0, 60)
    flagged = [flag(direct(scaled, n), imei, T0 + timedelta(seconds=n), T0 + timedelta(seconds=n + 1)) for n in (1, 2, 3)]
    assert [f["status"] for f in flagged] == ["sent"] * 3
    pending = [
        r[0]
        for r in query(
            scaled.info.dsn,
            "INSERT INTO recompute_requests (device_id, window_start, window_end, faulty, reason, rows_changed) "
            "SELECT %s, %s, %s, true, 'scale probe', 0 FROM generate_series(1, 3) RETURNING id::text",
            (imei, T0, T0 + timedelta(seconds=1)),
        )
    ]
    sent = until(
        lambda: query(scaled.info.dsn, "SELECT count(*) FROM recompute_requests WHERE sent_at IS NULL")[0][0] == 0, 40, 0.5
    )
    assert sent is not None, "the schedule did not re-send the pending requests within 40 s"
    ids = [m["request_id"] for _, m in read_stream(scaled.redis.url)]
    assert [ids.count(r["request_id"]) for r in flagged] == [1, 1, 1]
    assert [ids.count(p) for p in pending] == [1, 1, 1]
    attempts = query(scaled.info.dsn, "SELECT send_attempts FROM recompute_requests WHERE id::text = ANY(%s)", (pending,))
    assert sorted(a[0] for a in attempts) == [1, 1, 1]
