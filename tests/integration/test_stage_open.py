"""Stage opening and control closing times (extensions/trm-operations, issue #14 items 3–4) through REST.

A small rally: entries #101–#105 racing (`started`), #106 withdrawn and #107 only registered (neither
starts). Stage A (official): elapsed 101 3000 s, 102 3100, 103 3100 (a tie), 104 2900 + 600 s applied
penalty, 105 DNF (no time). Stage B (official): 101 4000, 102 3000, 103 3500, 104 3000, 105 DNF.
Each strategy opens its own stage (a liaison of 1 h, max 70 min, then a special stage, max 2 h; first
start 07:00, one a minute) and the start list is read back through REST.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import query
from tests.integration.graph import TimingGraph, refused

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

T0 = datetime(2026, 6, 9, 7, 0, tzinfo=UTC)


def ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def rally(api):
    tg = TimingGraph(api)
    event = tg.event()
    klass = tg.klass(event, code="C-1")
    entries = {n: tg.entry(event, klass, race_number=n, status="started") for n in range(101, 106)}
    entries[106] = tg.entry(event, klass, race_number=106, status="withdrawn")
    entries[107] = tg.entry(event, klass, race_number=107)  # registered
    a = tg.stage(event, name="A", status="closed")
    b = tg.stage(event, name="B", status="closed")
    for stage, times in ((a, {101: 3000, 102: 3100, 103: 3100, 104: 2900}), (b, {101: 4000, 102: 3000, 103: 3500, 104: 3000})):
        for n, elapsed in times.items():
            tg.result(entries[n], stage, elapsed)
        tg.result(entries[106], stage, 1000)  # a time of an entry that no longer starts
    p = tg.penalty(entries[104], a, seconds=600)
    api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})
    for stage in (a, b):
        api.patch(f"/items/stages/{stage['id']}", {"status": "official"})
    rally = {"tg": tg, "event": event, "entries": entries, "a": a, "b": b}
    rally["after_b"] = new_stage(rally, start_order_strategy="previous_stage_clean_result")  # the next sort order
    return rally


def new_stage(rally, **over):
    tg = rally["tg"]
    body = {"starts_at": T0.isoformat(), "start_interval_seconds": 60, **over}
    stage = tg.stage(rally["event"], **body)
    liaison = tg.segment(stage, type="liaison", target_duration_seconds=3600, max_duration_seconds=4200)
    special = tg.segment(stage, type="special-stage", max_duration_seconds=7200)
    return stage, liaison, special


def starts(api, segment) -> list[tuple[int, int, datetime | None]]:
    rows = api.get(
        "/items/entry_segment_starts",
        filter={"segment_id": {"_eq": segment["id"]}},
        sort="start_position",
        fields="start_position,target_at,entry_id.race_number",
        limit=-1,
    )
    return [(r["start_position"], r["entry_id"]["race_number"], ts(r["target_at"])) for r in rows]


def closes(api, segment) -> datetime | None:
    return ts(api.get(f"/items/segments/{segment['id']}")["controls_close_at"])


def closes_soon(api, segment, expected: datetime | None, timeout: float = 5.0) -> datetime | None:
    """controls_close_at once it equals `expected` (or when the timeout is over): after an edit of starts or of
    the maximum time it is recomputed by an action hook, which Directus runs after the write's commit."""
    deadline = time.monotonic() + timeout
    while (value := closes(api, segment)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def open_stage(api, stage):
    return api.patch(f"/items/stages/{stage['id']}", {"status": "open"})


@pytest.mark.parametrize(
    ("strategy", "input_stage", "params", "expected"),
    [
        ("manual", None, None, [101, 102, 103, 104, 105]),
        ("manual", None, {"order": [105, 106, 103]}, [105, 103, 101, 102, 104]),  # 106 withdrawn: skipped
        ("previous_stage_clean_result", "a", None, [104, 101, 102, 103, 105]),  # penalty ignored; tie by number
        ("inverse_top_n_then_natural", "a", {"n": 3}, [103, 102, 101, 104, 105]),  # totals: 104 is 3500
        ("inverse_of_overall", "b", None, [101, 103, 104, 102, 105]),  # A + B: 102 6100, 104 6500, 103 6600, 101 7000
    ],
)
def test_opening_materialises_the_start_list_of_each_strategy(api, rally, strategy, input_stage, params, expected):
    over = {"start_order_strategy": strategy, "start_order_strategy_params": params}
    if input_stage:
        over["start_order_input_stage_id"] = rally[input_stage]["id"]
    stage, liaison, special = new_stage(rally, **over)
    open_stage(api, stage)
    first = starts(api, liaison)
    print(f"\n{strategy} {params or ''}: " + ", ".join(f"{p}. #{n} {t:%H:%M}" for p, n, t in first))
    assert [n for _, n, _ in first] == expected
    assert [t for _, _, t in first] == [T0 + timedelta(minutes=i) for i in range(5)]
    second = starts(api, special)
    assert [(p, n) for p, n, _ in second] == [(p, n) for p, n, _ in first]  # the same order on every segment
    assert [t for _, _, t in second] == [t + timedelta(hours=1) for _, _, t in first]  # + the liaison's target time
    assert closes(api, liaison) == T0 + timedelta(minutes=4, seconds=4200)
    assert closes(api, special) == T0 + timedelta(hours=1, minutes=4, seconds=7200)


def test_the_previous_stage_is_the_input_when_none_is_named(api, rally):
    stage, liaison, _ = rally["after_b"]  # no input stage named: B, the stage before it
    open_stage(api, stage)
    assert [n for _, n, _ in starts(api, liaison)] == [102, 104, 103, 101, 105]  # B's elapsed times


def test_opening_is_refused_while_the_input_stage_is_not_official_and_writes_nothing(api, stack, rally):
    tg = rally["tg"]
    closed = tg.stage(rally["event"], name="C (closed)", status="closed")
    stage, liaison, special = new_stage(
        rally,
        start_order_strategy="inverse_top_n_then_natural",
        start_order_strategy_params={"n": 2},
        start_order_input_stage_id=closed["id"],
    )
    err = refused(lambda: open_stage(api, stage), code="INVALID_PAYLOAD")
    assert 'comes from stage "C (closed)", which is closed, not official: publish that stage first' in err.what
    assert api.get(f"/items/stages/{stage['id']}")["status"] == "draft"
    n = query(
        stack.info.dsn, "SELECT count(*) FROM entry_segment_starts WHERE segment_id IN (%s, %s)", (liaison["id"], special["id"])
    )
    assert n == [(0,)]
    assert closes(api, liaison) is None
    # and when the strategy has nothing to order from, or wrong parameters
    first = tg.stage(tg.event(), name="First", start_order_strategy="previous_stage_clean_result")
    err = refused(lambda: open_stage(api, first), code="INVALID_PAYLOAD")
    assert "there is none (set start_order_input_stage_id, or use manual)" in err.what
    bad = new_stage(rally, start_order_strategy="inverse_top_n_then_natural", start_order_input_stage_id=rally["a"]["id"])[0]
    err = refused(lambda: open_stage(api, bad), code="INVALID_PAYLOAD")
    assert 'needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got null)' in err.what
    err = refused(
        lambda: tg.stage(
            rally["event"],
            status="open",
            start_order_input_stage_id=closed["id"],
            start_order_strategy="previous_stage_clean_result",
        ),
        code="INVALID_PAYLOAD",
    )
    assert "not official" in err.what


def test_opening_without_a_first_start_time_is_refused(api, rally):
    stage, liaison, _ = new_stage(rally, starts_at=None)
    err = refused(lambda: open_stage(api, stage), code="INVALID_PAYLOAD")
    assert "set starts_at (the first start) to schedule its 5 starters" in err.what
    assert starts(api, liaison) == []


def test_reopening_adds_no_duplicates_and_keeps_timekeepers_edits(api, stack, rally):
    stage, liaison, special = new_stage(rally)
    open_stage(api, stage)
    first = starts(api, liaison)
    row = api.get("/items/entry_segment_starts", filter={"segment_id": {"_eq": liaison["id"]}, "start_position": {"_eq": 2}})[0]
    moved = T0 + timedelta(minutes=30)
    api.patch(f"/items/entry_segment_starts/{row['id']}", {"target_at": moved.isoformat(), "manual_override": True})
    open_stage(api, stage)  # open again while open
    api.patch(f"/items/stages/{stage['id']}", {"status": "closed"})
    open_stage(api, stage)  # closed -> open
    again = starts(api, liaison)
    assert len(again) == 5 and [n for _, n, _ in again] == [n for _, n, _ in first]
    assert again[1][2] == moved
    late = rally["tg"].segment(stage, type="liaison", target_duration_seconds=600)  # added after opening
    open_stage(api, stage)
    assert [n for _, n, _ in starts(api, late)] == [n for _, n, _ in first]
    total = query(
        stack.info.dsn,
        "SELECT count(*), count(DISTINCT (entry_id, segment_id)) FROM entry_segment_starts WHERE segment_id IN (%s, %s, %s)",
        (liaison["id"], special["id"], late["id"]),
    )
    assert total == [(15, 15)]


def test_closing_times_follow_the_starts_and_the_maximum_time(api, rally):
    stage, liaison, _ = new_stage(rally)
    open_stage(api, stage)
    assert closes(api, liaison) == T0 + timedelta(minutes=4, seconds=4200)  # written with the starts
    rows = api.get("/items/entry_segment_starts", filter={"segment_id": {"_eq": liaison["id"]}}, sort="start_position")
    later = T0 + timedelta(minutes=10, seconds=4200)
    api.patch(f"/items/entry_segment_starts/{rows[0]['id']}", {"target_at": (T0 + timedelta(minutes=10)).isoformat()})
    assert closes_soon(api, liaison, later) == later  # a later start: the controls close later
    api.delete(f"/items/entry_segment_starts/{rows[0]['id']}")
    back = T0 + timedelta(minutes=4, seconds=4200)
    assert closes_soon(api, liaison, back) == back  # back to the last remaining start
    api.post(
        "/items/entry_segment_starts",
        {
            "entry_id": rows[0]["entry_id"],
            "segment_id": liaison["id"],
            "start_position": 6,
            "target_at": (T0 + timedelta(minutes=5)).isoformat(),
        },
    )
    added = T0 + timedelta(minutes=5, seconds=4200)
    assert closes_soon(api, liaison, added) == added  # a start added by a timekeeper
    api.patch(f"/items/segments/{liaison['id']}", {"max_duration_seconds": 3600})
    shorter = T0 + timedelta(minutes=5, hours=1)
    assert closes_soon(api, liaison, shorter) == shorter
    api.patch(f"/items/segments/{liaison['id']}", {"max_duration_seconds": None})
    assert closes_soon(api, liaison, None) is None


def test_an_empty_stage_opens_with_no_starts(api, rally):
    tg = rally["tg"]
    event = tg.event()
    tg.entry(event, tg.klass(event), race_number=1)  # registered: does not start
    stage = tg.stage(event, start_order_strategy="manual")  # no starts_at needed: nobody to schedule
    seg = tg.segment(stage, max_duration_seconds=600)
    open_stage(api, stage)
    assert api.get(f"/items/stages/{stage['id']}")["status"] == "open"
    assert starts(api, seg) == [] and closes(api, seg) is None


def test_a_batch_opens_all_its_stages_or_none(api, stack, rally):
    good, good_liaison, _ = new_stage(rally)
    bad = new_stage(rally, start_order_strategy="inverse_of_overall", start_order_input_stage_id=good["id"])[0]
    err = refused(
        lambda: api.patch("/items/stages", {"keys": [good["id"], bad["id"]], "data": {"status": "open"}}), code="INVALID_PAYLOAD"
    )
    # the input stage is judged as this batch leaves it (open), in the transaction of the batch's own update
    assert f'comes from stage "{good["name"]}", which is open, not official' in err.what
    assert {api.get(f"/items/stages/{s['id']}")["status"] for s in (good, bad)} == {"draft"}
    assert starts(api, good_liaison) == []
