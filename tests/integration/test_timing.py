"""The timing model (Phase 3) on a stack booted from the committed artifacts, through Directus's REST API.

Every rule: the API answers 400 naming the rule and writes nothing; the database constraint or
trigger behind it refuses the same write from SQL (the processor and imports do not go through
the API). The formula resolution and the ranking are read from SQL as the processor would.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import execute, query
from tests.integration.graph import TimingGraph, count, refused, sql_refused, square
from trm_directus.model import timing

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

SPEEDING = [(0, 20, 60), (20, 40, 120), (40, None, 180)]


@pytest.fixture
def tg(api) -> TimingGraph:
    return TimingGraph(api)


@pytest.fixture(scope="module")
def me(api) -> str:
    return api.get("/users/me")["id"]


def formula_rows(stack, event) -> list[tuple]:
    return query(
        stack.info.dsn,
        "SELECT type, offence_min, offence_max, penalty_seconds FROM penalty_formulas WHERE event_id = %s "
        "ORDER BY type, offence_min NULLS FIRST",
        (event["id"],),
    )


# --- the collections --------------------------------------------------------------------------------


def test_timing_collections_sit_in_the_timing_folder_and_placeholders_show(api, tg):
    collections = {c["collection"]: c for c in api.get("/collections", limit=-1)}
    assert collections["timing"]["meta"]["sort"] == 4
    for c in timing.COLLECTIONS:
        meta = collections[c.name]["meta"]
        assert meta["group"] == "timing" and meta["note"] and meta["icon"], c.name
    assert collections["penalty_formulas"]["meta"]["display_template"] == "{{summary}}"
    assert api.get("/fields/penalty_formulas/placeholder")["meta"]["display_options"]["labelOn"] == "PLACEHOLDER"
    event = tg.event()
    f = tg.formula(event, waypoint_type="WPN", seconds=3600, placeholder=True)
    assert f["summary"] == "missed_waypoint WPN: 60 min [PLACEHOLDER]"
    rows = tg.brackets(event, SPEEDING)
    assert sorted(r["summary"] for r in rows) == [
        "speeding > 0 ≤ 20 km/h over: 1 min",
        "speeding > 20 ≤ 40 km/h over: 2 min",
        "speeding > 40 km/h over: 3 min",
    ]
    patched = api.patch(f"/items/penalty_formulas/{f['id']}", {"placeholder": False})
    assert patched["summary"] == "missed_waypoint WPN: 60 min"


# --- penalty formulas: values, targets --------------------------------------------------------------


def test_formula_values_are_validated_by_directus_and_the_database(tg, stack):
    event = tg.event()
    before = count(stack, "penalty_formulas")
    refused(lambda: tg.formula(event, seconds=-60), code="FAILED_VALIDATION")
    refused(lambda: tg.formula(event, type="speed-ish"), code="FAILED_VALIDATION")
    assert count(stack, "penalty_formulas") == before
    f = tg.formula(event)
    assert "penalty_formulas_values_check" in sql_refused(
        stack, "UPDATE penalty_formulas SET penalty_seconds = -1 WHERE id = %s", (f["id"],)
    )
    assert "penalty_formulas_type_check" in sql_refused(
        stack, "UPDATE penalty_formulas SET type = 'speed-ish' WHERE id = %s", (f["id"],)
    )


def test_formula_target_must_exist_and_be_of_the_formulas_event(tg, stack):
    stage = tg.stage()
    event = tg.event_of(stage)
    foreign = tg.stage(name="Foreign stage")
    before = count(stack, "penalty_formulas")
    err = refused(lambda: tg.formula(event, belongs_to_type="stage", belongs_to_id=foreign["id"]), code="INVALID_PAYLOAD")
    assert "belongs to another event" in err.what
    missing = "00000000-0000-4000-8000-000000000000"
    err = refused(lambda: tg.formula(event, belongs_to_type="stage", belongs_to_id=missing), code="INVALID_PAYLOAD")
    assert "does not exist" in err.what
    err = refused(lambda: tg.formula(event, belongs_to_type="event", belongs_to_id=stage["id"]), code="INVALID_PAYLOAD")
    assert "has no belongs_to_id" in err.what
    refused(lambda: tg.formula(event, belongs_to_type="segment"), code="INVALID_PAYLOAD")
    assert count(stack, "penalty_formulas") == before
    ok = tg.formula(event, belongs_to_type="stage", belongs_to_id=stage["id"])
    assert "belongs to another event" in sql_refused(
        stack, "UPDATE penalty_formulas SET belongs_to_id = %s WHERE id = %s", (foreign["id"], ok["id"])
    )
    assert "does not exist" in sql_refused(
        stack, "UPDATE penalty_formulas SET belongs_to_id = %s WHERE id = %s", (missing, ok["id"])
    )
    assert "penalty_formulas_belongs_to_check" in sql_refused(
        stack, "UPDATE penalty_formulas SET belongs_to_type = 'event' WHERE id = %s", (ok["id"],)
    )


def test_waypoint_type_is_only_for_missed_waypoint_rules(tg, stack):
    event = tg.event()
    err = refused(lambda: tg.formula(event, type="speeding", waypoint_type="WPN"), code="INVALID_PAYLOAD")
    assert "waypoint_type is for missed_waypoint" in err.what
    wp = tg.waypoint(tg.segment(tg.stage(event)))
    refused(
        lambda: tg.formula(event, belongs_to_type="waypoint", belongs_to_id=wp["id"], waypoint_type="WPN"), code="INVALID_PAYLOAD"
    )
    f = tg.formula(event, waypoint_type="WPP", seconds=120)
    assert "penalty_formulas_waypoint_type_check" in sql_refused(
        stack, "UPDATE penalty_formulas SET type = 'speeding' WHERE id = %s", (f["id"],)
    )


def test_deleting_a_course_row_with_formulas_attached_is_refused(tg, stack):
    seg = tg.segment()
    event = {"id": tg.api.get(f"/items/stages/{seg['stage_id']}")["event_id"]}
    wp = tg.waypoint(seg)
    tg.formula(event, belongs_to_type="waypoint", belongs_to_id=wp["id"], seconds=3600)
    err = refused(lambda: tg.api.delete(f"/items/waypoints/{wp['id']}"), code="INVALID_PAYLOAD")
    assert "penalty_formulas.belongs_to_id (1 row)" in err.what
    assert tg.api.get(f"/items/waypoints/{wp['id']}")["id"] == wp["id"]
    assert "penalty_formulas.belongs_to_id" in sql_refused(stack, "DELETE FROM waypoints WHERE id = %s", (wp["id"],))


# --- penalty formulas: brackets ------------------------------------------------------------------------


def test_bracket_rule_is_created_in_one_batch_and_one_flat_row_per_rule(tg, stack):
    event = tg.event()
    tg.brackets(event, SPEEDING)
    tg.formula(event)
    assert formula_rows(stack, event) == [
        ("missed_waypoint", None, None, 900),
        ("speeding", 0, 20, 60),
        ("speeding", 20, 40, 120),
        ("speeding", 40, None, 180),
    ]
    refused(lambda: tg.formula(event, seconds=600), code="RECORD_NOT_UNIQUE")
    assert len(formula_rows(stack, event)) == 4


@pytest.mark.parametrize(
    "bounds, says",
    [
        ([(0, 20, 60), (15, 40, 120)], "overlap"),
        ([(0, 20, 60), (25, 40, 120)], "gap between brackets (> 0 ≤ 20) and (> 25)"),
        ([(0, None, 60), (20, 40, 120)], "has no upper bound"),
        ([(0, 20, 60), (20, 20, 60)], "must be above offence_min"),
    ],
    ids=["overlap", "gap", "open-bracket-not-last", "empty-bracket"],
)
def test_brackets_of_one_rule_may_not_overlap_or_leave_gaps(tg, stack, bounds, says):
    event = tg.event()
    err = refused(lambda: tg.brackets(event, bounds), code="INVALID_PAYLOAD")
    assert says in err.what, err.what
    assert formula_rows(stack, event) == []  # the batch is all or nothing


def test_flat_row_and_brackets_do_not_mix_and_brackets_stay_contiguous_on_update_and_delete(tg, stack):
    event = tg.event()
    rows = sorted(tg.brackets(event, SPEEDING), key=lambda r: r["offence_min"])
    err = refused(lambda: tg.formula(event, type="speeding"), code="INVALID_PAYLOAD")
    assert "either one flat row or brackets" in err.what
    err = refused(lambda: tg.api.patch(f"/items/penalty_formulas/{rows[0]['id']}", {"offence_max": 25}), code="INVALID_PAYLOAD")
    assert "overlap" in err.what
    err = refused(lambda: tg.api.delete(f"/items/penalty_formulas/{rows[1]['id']}"), code="INVALID_PAYLOAD")
    assert "gap" in err.what
    assert len(formula_rows(stack, event)) == 3
    tg.api.delete("/items/penalty_formulas", [r["id"] for r in rows])  # the whole rule: fine
    assert formula_rows(stack, event) == []


def test_the_database_checks_a_rule_at_commit_so_a_rule_can_be_reshaped_in_one_transaction(tg, stack):
    event = tg.event()
    rows = sorted(tg.brackets(event, SPEEDING), key=lambda r: r["offence_min"])
    msg = sql_refused(stack, "UPDATE penalty_formulas SET offence_max = 15 WHERE id = %s", (rows[0]["id"],))
    assert "gap between brackets (> 0 ≤ 15) and (> 20)" in msg
    msg = sql_refused(stack, "DELETE FROM penalty_formulas WHERE id = %s", (rows[1]["id"],))
    assert "gap" in msg
    with psycopg.connect(stack.info.dsn) as conn:  # one transaction: invalid in between, valid at commit
        conn.execute("UPDATE penalty_formulas SET offence_max = 25 WHERE id = %s", (rows[0]["id"],))
        conn.execute("UPDATE penalty_formulas SET offence_min = 25 WHERE id = %s", (rows[1]["id"],))
    assert [r[1:3] for r in formula_rows(stack, event)] == [(0, 25), (25, 40), (40, None)]


# --- the winning formula ------------------------------------------------------------------------------


def winning(stack, type_: str, target_type: str, target_id: str, waypoint_type: str | None = None) -> list[tuple]:
    return query(
        stack.info.dsn,
        "SELECT belongs_to_type, waypoint_type, offence_min, offence_max, penalty_seconds "
        "FROM trm_timing.penalty_formula_for(%s, %s, %s, %s)",
        (type_, target_type, target_id, waypoint_type),
    )


def test_the_most_specific_formula_wins(tg, stack):
    stage = tg.stage()
    event = tg.event_of(stage)
    seg = tg.segment(stage)
    wpn = tg.waypoint(seg, type="WPN", code="WPN1")
    wpv = tg.waypoint(seg, type="WPV", code="WPV1")
    other_stage_wp = tg.waypoint(tg.segment(tg.stage(event)), type="WPN", code="WPN9")
    tg.formula(event, seconds=900)
    tg.formula(event, waypoint_type="WPN", seconds=3600)
    tg.formula(event, waypoint_type="WPP", seconds=120)
    assert winning(stack, "missed_waypoint", "waypoint", wpv["id"]) == [("event", None, None, None, 900)]
    assert winning(stack, "missed_waypoint", "waypoint", wpn["id"]) == [("event", "WPN", None, None, 3600)]
    assert winning(stack, "missed_waypoint", "segment", seg["id"], "WPP") == [("event", "WPP", None, None, 120)]
    tg.formula(event, belongs_to_type="stage", belongs_to_id=stage["id"], seconds=1800)
    assert winning(stack, "missed_waypoint", "waypoint", wpn["id"]) == [("stage", None, None, None, 1800)]  # attachment first
    assert winning(stack, "missed_waypoint", "waypoint", other_stage_wp["id"]) == [("event", "WPN", None, None, 3600)]
    own = tg.formula(event, belongs_to_type="waypoint", belongs_to_id=wpn["id"], seconds=600)
    assert winning(stack, "missed_waypoint", "waypoint", wpn["id"]) == [("waypoint", None, None, None, 600)]
    tg.api.patch(f"/items/penalty_formulas/{own['id']}", {"enabled": False})  # disabled: the next one applies
    assert winning(stack, "missed_waypoint", "waypoint", wpn["id"]) == [("stage", None, None, None, 1800)]
    zone = tg.api.post("/items/speed_limit_zones", {"segment_id": seg["id"], "speed_limit_kmh": 50, "geometry": square()})
    tg.brackets(event, SPEEDING)
    assert [r[2:] for r in winning(stack, "speeding", "speed_limit_zone", zone["id"])] == [
        (0, 20, 60),
        (20, 40, 120),
        (40, None, 180),
    ]
    tg.brackets(event, [(0, 10, 30), (10, None, 300)], belongs_to_type="speed_limit_zone", belongs_to_id=zone["id"])
    assert [r[0] for r in winning(stack, "speeding", "speed_limit_zone", zone["id"])] == ["speed_limit_zone"] * 2
    assert winning(stack, "dnf", "stage", stage["id"]) == []


# --- crossings, start slots ------------------------------------------------------------------------------


def test_crossing_is_of_exactly_one_target_of_the_entrys_event(tg, stack):
    event = tg.event()
    racer = tg.racer(event)
    fence = tg.geofence(event)
    foreign_fence = tg.geofence(tg.event(), name="Foreign finish")
    wp = tg.waypoint(tg.segment(tg.stage(event)))
    before = count(stack, "entry_crossings")
    err = refused(lambda: tg.crossing(racer), code="INVALID_PAYLOAD")
    assert "exactly one geofence or one waypoint" in err.what
    refused(lambda: tg.crossing(racer, geofence_id=fence["id"], waypoint_id=wp["id"]), code="INVALID_PAYLOAD")
    err = refused(lambda: tg.crossing(racer, geofence_id=foreign_fence["id"]), code="INVALID_PAYLOAD")
    assert "Foreign finish belongs to another event" in err.what
    assert count(stack, "entry_crossings") == before
    c = tg.crossing(racer, geofence_id=fence["id"])
    assert c["source"] == "gps"
    assert "entry_crossings_one_target_check" in sql_refused(
        stack, "UPDATE entry_crossings SET waypoint_id = %s WHERE id = %s", (wp["id"], c["id"])
    )
    assert "belong to different events" in sql_refused(
        stack,
        "INSERT INTO entry_crossings (id, entry_id, geofence_id, ts, source) VALUES (gen_random_uuid(), %s, %s, now(), 'gps')",
        (racer["id"], foreign_fence["id"]),
    )


def test_crossings_are_idempotent_on_entry_target_and_time(tg, stack):
    event = tg.event()
    racer = tg.racer(event)
    fence = tg.geofence(event)
    tg.crossing(racer, geofence_id=fence["id"], ts="2026-06-07T08:00:00Z")
    refused(lambda: tg.crossing(racer, geofence_id=fence["id"], ts="2026-06-07T08:00:00Z"), code="RECORD_NOT_UNIQUE")
    insert = (
        "INSERT INTO entry_crossings (id, entry_id, geofence_id, ts, source) "
        "VALUES (gen_random_uuid(), %s, %s, '2026-06-07T08:00:00Z', 'gps') ON CONFLICT (entry_id, geofence_id, ts) DO NOTHING"
    )
    assert execute(stack.info.dsn, insert, (racer["id"], fence["id"])) == 0
    assert count(stack, f"entry_crossings WHERE entry_id = '{racer['id']}'") == 1


def test_start_slots_are_unique_per_entry_and_segment_and_of_the_entrys_event(tg, stack):
    stage = tg.stage()
    event = tg.event_of(stage)
    seg = tg.segment(stage)
    a, b = tg.racer(event, code="C-1"), tg.racer(event, code="C-3")
    tg.api.post("/items/entry_segment_starts", {"entry_id": a["id"], "segment_id": seg["id"], "start_position": 1})
    refused(
        lambda: tg.api.post("/items/entry_segment_starts", {"entry_id": a["id"], "segment_id": seg["id"], "start_position": 2}),
        code="RECORD_NOT_UNIQUE",
    )
    refused(
        lambda: tg.api.post("/items/entry_segment_starts", {"entry_id": b["id"], "segment_id": seg["id"], "start_position": 1}),
        code="RECORD_NOT_UNIQUE",
    )
    foreign = tg.segment()
    err = refused(
        lambda: tg.api.post("/items/entry_segment_starts", {"entry_id": b["id"], "segment_id": foreign["id"]}),
        code="INVALID_PAYLOAD",
    )
    assert "another event" in err.what
    assert count(stack, f"entry_segment_starts WHERE segment_id = '{seg['id']}'") == 1
    assert "belong to different events" in sql_refused(
        stack,
        "INSERT INTO entry_segment_starts (id, entry_id, segment_id) VALUES (gen_random_uuid(), %s, %s)",
        (b["id"], foreign["id"]),
    )


# --- penalties: review ------------------------------------------------------------------------------------


def test_applying_a_penalty_records_the_reviewer_and_time(tg, me):
    stage = tg.stage()
    racer = tg.racer(tg.event_of(stage))
    p = tg.penalty(racer, stage)
    assert (p["status"], p["reviewed_by"], p["reviewed_at"]) == ("proposed", None, None)
    applied = tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})
    assert applied["reviewed_by"] == me and applied["reviewed_at"]


def test_waiving_needs_a_note_and_a_reviewed_penalty_does_not_go_back(tg, stack):
    stage = tg.stage()
    racer = tg.racer(tg.event_of(stage))
    p = tg.penalty(racer, stage)
    err = refused(lambda: tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "waived"}), code="INVALID_PAYLOAD")
    assert "needs a note" in err.what
    assert tg.api.get(f"/items/entry_penalties/{p['id']}")["status"] == "proposed"
    assert "entry_penalties_waive_note_check" in sql_refused(
        stack,
        "UPDATE entry_penalties SET status = 'waived', reviewed_by = (SELECT id FROM directus_users LIMIT 1) WHERE id = %s",
        (p["id"],),
    )
    assert "entry_penalties_reviewed_check" in sql_refused(
        stack, "UPDATE entry_penalties SET status = 'applied' WHERE id = %s", (p["id"],)
    )
    waived = tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "waived", "note": "GPS glitch in the tunnel"})
    assert waived["status"] == "waived"
    err = refused(lambda: tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "proposed"}), code="INVALID_PAYLOAD")
    assert "does not go back to proposed" in err.what
    assert "does not go back to proposed" in sql_refused(
        stack, "UPDATE entry_penalties SET status = 'proposed' WHERE id = %s", (p["id"],)
    )
    reapplied = tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})  # a re-review is allowed
    assert reapplied["status"] == "applied"


def test_overriding_the_seconds_of_a_reviewed_penalty_needs_a_note(tg, stack):
    stage = tg.stage()
    racer = tg.racer(tg.event_of(stage))
    p = tg.penalty(racer, stage, seconds=180)
    tg.api.patch(f"/items/entry_penalties/{p['id']}", {"seconds": 120})  # still proposed: the processor may recompute
    err = refused(
        lambda: tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied", "seconds": 60}), code="INVALID_PAYLOAD"
    )
    assert "needs a note" in err.what
    assert tg.api.get(f"/items/entry_penalties/{p['id']}")["seconds"] == 120
    tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})
    assert "needs a note" in sql_refused(stack, "UPDATE entry_penalties SET seconds = 30 WHERE id = %s", (p["id"],))
    done = tg.api.patch(f"/items/entry_penalties/{p['id']}", {"seconds": 60, "note": "peak speed from a single sample"})
    assert done["seconds"] == 60


def test_penalty_stage_and_formula_are_of_the_entrys_event(tg, stack):
    stage = tg.stage()
    racer = tg.racer(tg.event_of(stage))
    foreign_stage = tg.stage(name="Foreign day")
    foreign_formula = tg.formula(tg.event())
    before = count(stack, "entry_penalties")
    err = refused(lambda: tg.penalty(racer, foreign_stage), code="INVALID_PAYLOAD")
    assert "stage Foreign day belongs to another event" in err.what
    refused(lambda: tg.penalty(racer, stage, formula_id=foreign_formula["id"]), code="INVALID_PAYLOAD")
    assert count(stack, "entry_penalties") == before
    p = tg.penalty(racer, stage)
    assert "belong to different events" in sql_refused(
        stack, "UPDATE entry_penalties SET formula_id = %s WHERE id = %s", (foreign_formula["id"], p["id"])
    )


# --- results, ranking, publishing ----------------------------------------------------------------------------


def ranking(api, stage, klass=None) -> list[tuple]:
    filter_ = {"stage_id": {"_eq": stage["id"]}}
    if klass:
        filter_["entry_id"] = {"class_id": {"_eq": klass["id"]}}
    rows = api.get(
        "/items/stage_results",
        filter=filter_,
        sort="rank_class" if klass else "rank_overall",
        fields="entry_id.race_number,elapsed_seconds,penalty_seconds,total_seconds,rank_overall,rank_class,status",
        limit=-1,
    )
    return [
        (r["entry_id"]["race_number"], r["penalty_seconds"], r["total_seconds"], r["rank_overall"], r["rank_class"]) for r in rows
    ]


def test_results_are_ranked_overall_and_in_class_from_applied_penalties(tg, stack, api):
    stage = tg.stage()
    event = tg.event_of(stage)
    c1, c2 = tg.klass(event, code="C-1"), tg.klass(event, code="C-2")
    e1, e2, e3 = (tg.racer(event, k, n) for k, n in ((c1, 301), (c2, 302), (c1, 303)))
    tg.result(e1, stage, 3600)
    tg.result(e2, stage, 3650)
    tg.result(e3, stage, 3700)
    assert ranking(api, stage) == [(301, 0, 3600, 1, 1), (302, 0, 3650, 2, 1), (303, 0, 3700, 3, 2)]
    p = tg.penalty(e1, stage, seconds=120)
    assert ranking(api, stage)[0] == (301, 0, 3600, 1, 1)  # proposed penalties do not count
    tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})
    assert ranking(api, stage) == [(302, 0, 3650, 1, 1), (303, 0, 3700, 2, 1), (301, 120, 3720, 3, 2)]
    assert ranking(api, stage, c1) == [(303, 0, 3700, 2, 1), (301, 120, 3720, 3, 2)]
    tg.api.patch(f"/items/entry_penalties/{p['id']}", {"status": "waived", "note": "stewards' decision"})
    assert ranking(api, stage)[0] == (301, 0, 3600, 1, 1)
    live = query(stack.info.dsn, "SELECT race_number, rank_overall FROM trm_timing.stage_ranking(%s)", (stage["id"],))
    assert live == [(301, 1), (302, 2), (303, 3)]


def test_result_is_unique_per_entry_and_stage_and_its_ranking_columns_are_computed(tg, stack):
    stage = tg.stage()
    racer = tg.racer(tg.event_of(stage))
    r = tg.result(racer, stage)
    refused(lambda: tg.result(racer, stage, 4000), code="RECORD_NOT_UNIQUE")
    err = refused(
        lambda: tg.api.patch(f"/items/stage_results/{r['id']}", {"rank_overall": 1, "total_seconds": 1}), code="INVALID_PAYLOAD"
    )
    assert "computed by the database" in err.what
    err = refused(lambda: tg.api.patch(f"/items/stage_results/{r['id']}", {"status": "official"}), code="INVALID_PAYLOAD")
    assert "by publishing the stage" in err.what
    assert "by publishing the stage" in sql_refused(
        stack, "UPDATE stage_results SET status = 'official', published_at = now() WHERE id = %s", (r["id"],)
    )
    foreign = tg.stage(name="Another event's stage")
    err = refused(lambda: tg.result(racer, foreign), code="INVALID_PAYLOAD")
    assert "another event" in err.what
    assert count(stack, f"stage_results WHERE entry_id = '{racer['id']}'") == 1


def test_publishing_needs_every_penalty_reviewed_and_makes_results_official_and_final(tg, stack, api):
    stage = tg.stage(status="closed")
    event = tg.event_of(stage)
    racer = tg.racer(event)
    result = tg.result(racer, stage, 3600)
    p = tg.penalty(racer, stage, seconds=60)
    err = refused(lambda: api.patch(f"/items/stages/{stage['id']}", {"status": "official"}), code="INVALID_PAYLOAD")
    assert "1 proposed penalty awaiting review" in err.what
    assert api.get(f"/items/stages/{stage['id']}")["status"] == "closed"
    assert "awaiting review" in sql_refused(stack, "UPDATE stages SET status = 'official' WHERE id = %s", (stage["id"],))
    api.patch(f"/items/entry_penalties/{p['id']}", {"status": "applied"})
    api.patch(f"/items/stages/{stage['id']}", {"status": "official"})
    published = api.get(f"/items/stage_results/{result['id']}")
    assert (published["status"], published["total_seconds"], published["rank_overall"]) == ("official", 3660, 1)
    assert published["published_at"]
    refused(lambda: api.patch(f"/items/stage_results/{result['id']}", {"elapsed_seconds": 1}), code="INVALID_PAYLOAD")
    assert "official result is final" in sql_refused(
        stack, "UPDATE stage_results SET elapsed_seconds = 1 WHERE id = %s", (result["id"],)
    )
    refused(lambda: api.patch(f"/items/entry_penalties/{p['id']}", {"status": "waived", "note": "late"}), code="INVALID_PAYLOAD")
    assert "penalties are final" in sql_refused(stack, "DELETE FROM entry_penalties WHERE id = %s", (p["id"],))
    refused(lambda: tg.penalty(racer, stage), code="INVALID_PAYLOAD")
    err = refused(lambda: api.patch(f"/items/stages/{stage['id']}", {"status": "closed"}), code="INVALID_PAYLOAD")
    assert "official results are final" in err.what
    assert "official results are final" in sql_refused(stack, "UPDATE stages SET status = 'open' WHERE id = %s", (stage["id"],))
    late = tg.racer(event, code="C-3")
    assert "results are final" in sql_refused(
        stack,
        "INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds, status) "
        "VALUES (gen_random_uuid(), %s, %s, 10, 'provisional')",
        (late["id"], stage["id"]),
    )


def test_a_transaction_of_many_writes_is_ranked_once_at_its_commit(tg, stack, api):
    stage = tg.stage()
    event = tg.event_of(stage)
    klass = tg.klass(event, code="C-1")
    racers = [tg.racer(event, klass, 500 + i) for i in range(4)]
    with psycopg.connect(stack.info.dsn) as conn:  # the processor's batch: one transaction
        for i, r in enumerate(racers):
            conn.execute(
                "INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds) VALUES (gen_random_uuid(), %s, %s, %s)",
                (r["id"], stage["id"], 4000 - i * 100),
            )
        unranked = conn.execute("SELECT count(*) FROM stage_results WHERE stage_id = %s AND rank_overall IS NULL", (stage["id"],))
        assert unranked.fetchone()[0] == 4  # ranked at commit, once, not per row
        conn.execute(
            "INSERT INTO entry_penalties (id, entry_id, stage_id, type, seconds, status, reviewed_by) "
            "VALUES (gen_random_uuid(), %s, %s, 'speeding', 500, 'applied', (SELECT id FROM directus_users LIMIT 1))",
            (racers[3]["id"], stage["id"]),
        )
    assert ranking(api, stage) == [(502, 0, 3800, 1, 1), (501, 0, 3900, 2, 2), (500, 0, 4000, 3, 3), (503, 500, 4200, 4, 4)]
