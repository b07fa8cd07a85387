"""The faulty flag with Redis stopped (extensions/trm-operations): the request stays pending and is
delivered by the next call or by the schedule. Stopping Redis is a fault on the whole stack, so these
tests have their own (test_operations.py runs the rest on the session's shared stack).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.conftest import query
from tests.integration.test_operations import T0, faulty_count, flag
from trm_directus.recompute import insert_positions, read_stream

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
        stack.redis.start()  # same port, empty (no persistence): the processor would see only new entries
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
