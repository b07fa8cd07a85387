"""Device commands end to end (issue 28): REST, Redis and the reference gateway as a real process.

Every state a command can reach — acked, nacked with the device's text, timed out, failed without a
session — and the refusals that store and send nothing (unknown kind, bad parameters, system
fields); Redis down then back; two gateway instances each getting only their own devices' commands;
two Directus processes on one database and Redis applying each reply exactly once.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import REPO, query
from tests.integration.graph import imei, refused
from trm_directus import resp
from trm_directus.devices import contract
from trm_directus.devices.gateway import running
from trm_directus.directus.api import Directus

pytestmark = [pytest.mark.integration, pytest.mark.directus]

FINAL = ("acked", "nacked", "timed_out", "failed")


def gateway(stack, instance: str, imeis: list[str], *extra: str):
    """A reference gateway process holding these devices' sessions (re-registered every second)."""
    return running(stack.redis.url, instance, imeis, "--refresh-seconds", "1", *extra, cwd=REPO)


def log_of(gw) -> str:
    assert gw.proc.poll() is not None, "read the log after the gateway stopped"
    return gw.output()


def wait_for(api: Directus, command_id: str, states=FINAL, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        row = api.get(f"/items/commands/{command_id}")
        if row["status"] in states:
            return row
        assert time.monotonic() < deadline, f"command {command_id} still {row['status']} after {timeout:g} s: {row}"
        time.sleep(0.1)


@pytest.fixture
def device(api):
    return api.post("/items/devices", {"imei": imei(), "model": "Teltonika FMB920"})


def streams(stack) -> dict[str, int]:
    keys = resp.call(stack.redis.url, "KEYS", "commands:*") or []
    return {k: resp.call(stack.redis.url, "XLEN", k) for k in keys}


def test_a_command_goes_queued_sent_acked_with_the_devices_answer(stack, api, device):
    with gateway(stack, "gw-1", [device["imei"]]) as gw:
        created = api.post("/items/commands", {"device_id": device["id"], "kind": "setperiod", "parameters": {"seconds": 30}})
        # The create's response waits for the command's delivery: it is on the gateway's stream already.
        assert created["status"] in ("sent", "acked") and created["sent_at"] and created["gateway_instance"] == "gw-1", created
        row = wait_for(api, created["id"])
    assert row["status"] == "acked" and row["answer"] == "New value 30" and row["gateway_instance"] == "gw-1"
    assert row["queued_at"] <= row["sent_at"] <= row["acked_at"] and row["failure_reason"] is None
    assert row["requested_by"] is not None and row["stream_id"]  # the administrator who asked; its stream entry
    assert f"{created['id']} {device['imei']} setperiod -> ack" in log_of(gw)
    shown = ("status", "kind", "parameters", "queued_at", "sent_at", "acked_at", "answer", "gateway_instance", "stream_id")
    print("\ncommand row after the reply:", json.dumps({k: row[k] for k in shown}, indent=1))


def test_a_refused_command_is_nacked_with_the_devices_text(stack, api, device):
    with gateway(stack, "gw-1", [device["imei"]], "--nack", "setdigout"):
        created = api.post("/items/commands", {"device_id": device["id"], "kind": "setdigout", "parameters": {"outputs": "1?"}})
        row = wait_for(api, created["id"])
    assert (row["status"], row["answer"]) == ("nacked", "Unknown command") and row["nacked_at"] and row["acked_at"] is None


def test_no_answer_within_the_kinds_timeout_is_timed_out(stack, api, device):
    api.post("/items/command_kinds", {"code": "ping_quick", "name": "Ping, 5 s", "timeout_seconds": 5})
    with gateway(stack, "gw-silent", [device["imei"]], "--silent") as gw:
        created = api.post("/items/commands", {"device_id": device["id"], "kind": "ping_quick"})
        assert wait_for(api, created["id"], ("sent", *FINAL))["status"] == "sent"
        row = wait_for(api, created["id"], timeout=20)  # 5 s and the 2 s schedule
    assert row["status"] == "timed_out" and row["failure_reason"] == "no answer from the device within 5 s"
    assert "-> silent" in log_of(gw)


def test_a_device_no_gateway_holds_fails_at_once(stack, api, device):
    created = api.post("/items/commands", {"device_id": device["id"], "kind": "getgps"})
    assert created["status"] == "failed", created  # the create's own response says so, with the reason
    assert f"no gateway holds a session of device {device['imei']}" in created["failure_reason"]
    row = wait_for(api, created["id"], timeout=5)
    assert row["status"] == "failed" and row["failed_at"] and row["sent_at"] is None
    assert f"no gateway holds a session of device {device['imei']}" in row["failure_reason"]


def test_unknown_kinds_bad_parameters_and_system_fields_are_refused_and_nothing_is_stored_or_sent(stack, api, device):
    with gateway(stack, "gw-1", [device["imei"]]):
        before = (query(stack.info.dsn, "SELECT count(*) FROM commands")[0][0], streams(stack))
        cases = [
            ({"kind": "getgpz"}, 'unknown command kind "getgpz": use one of getgps, getinfo'),
            ({"kind": "setperiod", "parameters": {"seconds": 0}}, "parameters.seconds must be at least 1"),
            ({"kind": "setperiod", "parameters": {}}, "parameters.seconds is required"),
            ({"kind": "getgps", "parameters": {"x": 1}}, "parameters.x is not a parameter of this kind (it takes none)"),
            ({"kind": "setdigout", "parameters": {"outputs": "12", "durations": [1, 2, 3, 4, 5]}}, "must match"),
            ({"kind": "getgps", "status": "acked"}, "status is written by the system"),
        ]
        for body, says in cases:
            post = lambda body=body: api.post("/items/commands", {"device_id": device["id"], **body})  # noqa: E731
            err = refused(post, code="INVALID_PAYLOAD")
            assert says in err.what, (body, err.what)
        api.patch("/items/command_kinds/getinfo", {"enabled": False})
        try:
            disabled = {"device_id": device["id"], "kind": "getinfo"}
            err = refused(lambda: api.post("/items/commands", disabled), code="INVALID_PAYLOAD")
            assert 'command kind "getinfo" is disabled' in err.what
        finally:
            api.patch("/items/command_kinds/getinfo", {"enabled": True})
        odd = {"code": "odd", "name": "x", "parameters_schema": {"type": "object", "oneOf": []}}
        err = refused(lambda: api.post("/items/command_kinds", odd), code="INVALID_PAYLOAD")
        assert '"oneOf" is not supported' in err.what
        time.sleep(2.5)  # a schedule run: still nothing to send
        assert (query(stack.info.dsn, "SELECT count(*) FROM commands")[0][0], streams(stack)) == before


def test_while_redis_is_down_a_command_stays_queued_and_is_delivered_when_it_is_back(stack, api, device):
    with gateway(stack, "gw-1", [device["imei"]]):
        stack.redis.stop()
        try:
            created = api.post("/items/commands", {"device_id": device["id"], "kind": "getgps"})
            assert created["status"] == "queued" and created["failure_reason"].startswith("not delivered yet"), created
            time.sleep(3)  # one schedule run tried too
            row = api.get(f"/items/commands/{created['id']}")
            assert row["status"] == "queued" and row["attempts"] >= 1 and row["failure_reason"].startswith("not delivered yet")
        finally:
            stack.redis.start()  # empty (no persistence): the gateway registers its sessions again within a second
        row = wait_for(api, created["id"], timeout=30)
    assert row["status"] == "acked" and row["failure_reason"] is None and row["attempts"] >= 2


def test_two_gateway_instances_each_get_only_their_own_devices_commands(stack, api):
    a, b = (api.post("/items/devices", {"imei": imei(), "model": "FMB920"}) for _ in range(2))
    with gateway(stack, "gw-a", [a["imei"]]) as gw_a, gateway(stack, "gw-b", [b["imei"]]) as gw_b:
        sent = [api.post("/items/commands", {"device_id": d["id"], "kind": k}) for d in (a, b) for k in ("getgps", "getinfo")]
        rows = [wait_for(api, c["id"]) for c in sent]
    assert [r["gateway_instance"] for r in rows] == ["gw-a", "gw-a", "gw-b", "gw-b"]
    assert all(r["status"] == "acked" for r in rows)
    log_a, log_b = log_of(gw_a), log_of(gw_b)
    assert log_a.count(a["imei"]) == 2 and b["imei"] not in log_a
    assert log_b.count(b["imei"]) == 2 and a["imei"] not in log_b


def test_with_two_directus_processes_each_reply_is_applied_exactly_once(stack, api, device):
    from trm_directus.services.proc import free_ports, terminate

    [port] = free_ports(1)
    second_log = stack.logs_dir / "directus-second.log"
    second = stack.launch(port, second_log)
    try:
        deadline = time.monotonic() + 120
        while "Server started" not in (second_log.read_text(errors="replace") if second_log.exists() else ""):
            assert second.poll() is None and time.monotonic() < deadline, second_log.read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        with gateway(stack, "gw-1", [device["imei"]]):
            sent = [api.post("/items/commands", {"device_id": device["id"], "kind": "getgps"}) for _ in range(20)]
            rows = [wait_for(api, c["id"]) for c in sent]
        assert {r["status"] for r in rows} == {"acked"}
        logs = stack.boot_log.read_text(errors="replace") + second_log.read_text(errors="replace")
        for c in sent:
            assert logs.count(f"command {c['id']}: reply ack from gw-1 applied") == 1, c["id"]
        consumers = resp.call(stack.redis.url, "XINFO", "CONSUMERS", contract.REPLIES_STREAM, "trm-directus")
        assert len(consumers) >= 2  # both processes read the group
    finally:
        terminate(second)
