"""The faulty flag with Redis stopped or killed (extensions/trm-operations): a request made while Redis
is down stays pending and is delivered by the next call or by the schedule; one sent right before a
kill -9 is still in the stream (append-only file); one Redis lost altogether is sent again.
Stopping Redis is a fault on the whole stack, so these
tests have their own (test_operations.py runs the rest on the session's shared stack).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import timedelta

import pytest

from tests.conftest import query
from tests.integration.test_operations import T0, faulty_count, flag
from trm_directus.processor import insert_positions, read_stream

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def test_request_made_while_redis_is_down_is_kept_pending_and_resent(stack, api, g):
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 120)
    stack.redis.stop()
    try:
        down = flag(api, imei, T0, T0 + timedelta(minutes=1))
        assert down["status"] == "pending" and down["stream_id"] is None and down["rows_changed"] == 60
        assert faulty_count(stack, imei) == 60  # the flag itself does not wait for Redis
        pending = query(
            stack.info.dsn,
            "SELECT send_attempts, last_error IS NOT NULL FROM recompute_requests WHERE id = %s",
            (down["request_id"],),
        )
        assert pending == [(1, True)]
    finally:
        stack.redis.start()  # same port and append-only file: the entries sent before are still there
    # The next call delivers the pending request first, then its own: in request order.
    up = flag(api, imei, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert up["status"] == "sent" and up["pending_requests"] == 0
    ids = [m["request_id"] for _, m in read_stream(stack.redis.url)]
    assert ids[-2:] == [down["request_id"], up["request_id"]]


def test_the_schedule_resends_pending_requests_without_another_call(stack, api, g):
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 30)
    stack.redis.stop()
    try:
        down = flag(api, imei, T0, T0 + timedelta(seconds=30))
        assert down["status"] == "pending"
    finally:
        stack.redis.start()
    deadline = time.monotonic() + 60  # the schedule runs every 15 s
    while time.monotonic() < deadline:
        if any(m["request_id"] == down["request_id"] for _, m in read_stream(stack.redis.url)):
            break
        time.sleep(1)
    else:
        pytest.fail("the pending request did not reach the stream within 60 s of Redis coming back")
    sent = query(stack.info.dsn, "SELECT sent_at IS NOT NULL FROM recompute_requests WHERE id = %s", (down["request_id"],))
    assert sent == [(True,)]


def kill_redis(stack) -> None:
    """kill -9: no shutdown, no final write of the append-only file."""
    pid = stack.redis.pid
    os.kill(pid, signal.SIGKILL)
    stack.redis.process.wait(timeout=10)


def wait_for(check, timeout: float = 75) -> float:
    """Poll `check` (the schedule runs every 15 s, a sent row is checked 5 s after sending); seconds waited."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"not within {timeout:.0f}s")
        time.sleep(1)
    return time.monotonic() - t0


def outbox_row(stack, request_id: str) -> tuple:
    return query(
        stack.info.dsn,
        "SELECT stream_id, confirmed_at IS NOT NULL, send_attempts, coalesce(last_error, '') "
        "FROM recompute_requests WHERE id = %s",
        (request_id,),
    )[0]


def flag_then_kill_redis(stack, api, g) -> dict:
    """A flag delivered to the stream (XADD answered), then Redis killed at once; the flag's answer."""
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 30)
    sent = flag(api, imei, T0, T0 + timedelta(seconds=30))
    assert sent["status"] == "sent"
    kill_redis(stack)
    return sent


def test_a_request_flagged_right_before_redis_is_killed_is_in_the_stream_when_redis_is_back(stack, api, g):
    sent = flag_then_kill_redis(stack, api, g)
    stack.redis.start()  # the same directory: Redis replays its append-only file
    stream = {m["request_id"]: eid for eid, m in read_stream(stack.redis.url)}
    assert stream.get(sent["request_id"]) == sent["stream_id"]
    waited = wait_for(lambda: outbox_row(stack, sent["request_id"])[1])
    print(f"confirmed {waited:.0f}s after Redis came back")
    assert outbox_row(stack, sent["request_id"])[:3] == (sent["stream_id"], True, 1)  # sent once, never again


def test_a_request_that_redis_lost_is_sent_again_by_the_outbox(stack, api, g):
    sent = flag_then_kill_redis(stack, api, g)
    shutil.rmtree(stack.redis.dir / "appendonlydir")  # its disk is gone: Redis comes back empty
    stack.redis.start()
    assert sent["request_id"] not in {m["request_id"] for _, m in read_stream(stack.redis.url)}
    waited = wait_for(lambda: sent["request_id"] in {m["request_id"] for _, m in read_stream(stack.redis.url)})
    print(f"re-sent {waited:.0f}s after Redis came back empty")
    wait_for(lambda: outbox_row(stack, sent["request_id"])[1])
    stream_id, confirmed, attempts, error = outbox_row(stack, sent["request_id"])
    assert confirmed and attempts == 2 and stream_id != sent["stream_id"] and error == ""  # sent again, then confirmed
    assert "1 sent request(s) missing from the stream, re-sending" in stack.boot_output()
