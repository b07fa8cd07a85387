"""The retroactivity preview (POST /trm/course/preview) and course-edit recompute requests, on the
processor contract's stage (test_processor_contract.py): the crossing contract (db-init/post/115,
db-init/README.md "How a crossing is decided") applied to its positions gives exactly the crossings
and the speeding excess the contract test writes; a preview of an edit says whose crossings and
penalties change and writes nothing; saving the edit sends one course-edit request to the stream.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.conftest import query
from tests.integration.graph import point, square
from tests.integration.test_processor_contract import T0, TRACKS, processor_writes, rally  # noqa: F401 (rally: a fixture)
from trm_directus import resp
from trm_directus.errors import DirectusError
from trm_directus.processor import STREAM, read_stream

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

START = datetime.fromisoformat(T0)


def at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.fixture
def ran(stack, rally):  # noqa: F811 (the fixture imported above)
    """The contract test's rally after one processor run."""
    _, course, entries, _ = rally
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        processor_writes(conn, course, entries)
    return course, {e["id"]: number for number, e in entries.items()}


# The contract's functions as the processor calls them: WP3 as drawn, the start and finish squares, the zone at 50.
WAYPOINT_SQL = """SELECT entry_id::text, ts, validated_at FROM trm_course.waypoint_crossings(
    %s, ARRAY[ST_SetSRID(ST_MakePoint(19.83, 41.305), 4326)], ARRAY[800.0], ARRAY[200.0])"""
GEOFENCE_SQL = """SELECT variant, entry_id::text, ts FROM trm_course.geofence_crossings(
    %s, ARRAY[(SELECT geometry FROM geofences WHERE id = %s), (SELECT geometry FROM geofences WHERE id = %s)])"""
ZONE_SQL = """SELECT entry_id::text, peak_kmh, over_kmh, samples FROM trm_course.zone_excesses(
    %s, ARRAY[(SELECT geometry FROM speed_limit_zones WHERE id = %s)], ARRAY[50.0],
    ARRAY[NULL]::geometry[], ARRAY[NULL]::float8[], ARRAY[NULL]::geometry[], ARRAY[NULL]::float8[])"""


def contract(stack, sql: str, *params) -> list[tuple]:
    return query(stack.info.dsn, sql, params)


def written(stack) -> dict:
    """What a preview must not change: the course, the outbox, activity and revisions, the stream."""
    tables = ("waypoints", "geofences", "speed_limit_zones", "recompute_requests", "directus_activity", "directus_revisions")
    sql = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(to_jsonb(r)::text, '' ORDER BY r::text), '')) FROM {t} r" for t in tables
    )
    return {**dict(query(stack.info.dsn, sql)), STREAM: resp.call(stack.redis.url, "XLEN", STREAM)}


def preview(api, collection: str, obj: dict, **changes) -> dict:
    return api.post("/trm/course/preview", {"collection": collection, "id": obj["id"], "changes": changes})


def test_the_contract_gives_the_crossings_and_the_excess_the_processor_wrote(stack, api, ran):
    course, number = ran
    stage = course["stage"]["id"]
    wpn = contract(stack, WAYPOINT_SQL, stage)
    fences = contract(stack, GEOFENCE_SQL, stage, course["start"]["id"], course["finish"]["id"])
    excess = contract(stack, ZONE_SQL, stage, course["zone"]["id"])
    computed = {(number[e], "WP3", ts) for e, ts, _ in wpn} | {
        (number[e], "start" if v == 1 else "finish", ts) for v, e, ts in fences
    }
    table = query(
        stack.info.dsn,
        """SELECT e.race_number::text, coalesce(w.code, CASE WHEN c.geofence_id = %s THEN 'start' ELSE 'finish' END), c.ts
             FROM entry_crossings c JOIN entries e ON e.id = c.entry_id LEFT JOIN waypoints w ON w.id = c.waypoint_id
            WHERE c.entry_id = ANY(%s::uuid[])""",
        (course["start"]["id"], list(number)),
    )
    print("\ncontract on the contract test's positions:", sorted((n, t, ts.isoformat()) for n, t, ts in computed))
    assert (
        computed
        == set(table)
        == {
            ("301", "start", at(0)),
            ("301", "WP3", at(1800)),
            ("301", "finish", at(3600)),
            ("1", "start", at(60)),
            ("1", "finish", at(3720)),
        }
    )
    assert [w[2] for w in wpn] == [at(1800)]  # the entry into the opening radius is the validation here
    inputs = query(
        stack.info.dsn,
        "SELECT entry_id::text, inputs FROM entry_penalties WHERE stage_id = %s AND type = 'speeding'",
        (stage,),
    )
    assert (
        [(number[e], p, o, n) for e, p, o, n in excess]
        == [(number[i[0]], i[1]["peak_kmh"], i[1]["over_kmh"], i[1]["samples"]) for i in inputs]
        == [("301", 77.0, 27, 3)]
    )
    # The preview of an edit that changes nothing: no entry affected, and the table agrees with the contract.
    same = preview(api, "waypoints", course["wpn"], location=point(19.83, 41.305))
    assert (same["entries"], same["totals"]["entries_affected"], same["totals"]["contract_mismatches"]) == ([], 0, 0)


def test_moving_the_waypoint_onto_the_other_track_swaps_who_misses_it_and_writes_nothing(stack, api, ran):
    course, _ = ran
    before = written(stack)
    answer = preview(api, "waypoints", course["wpn"], location=point(19.83, 41.33))
    assert written(stack) == before
    print("\npreview, WP3 moved 2.8 km north:", json.dumps(answer, indent=1))
    rows = {
        e["race_number"]: ([(c["change"], c["after"] and c["after"]["ts"]) for c in e["crossings"]], e["penalties"])
        for e in answer["entries"]
    }
    assert rows[1][0] == [("gained", "2026-06-07T08:31:00.000Z")]
    assert rows[301][0] == [("lost", None)]
    assert [(p["type"], p["before_seconds"], p["after_seconds"], p["recorded"]) for p in rows[1][1]] == [
        ("missed_waypoint", 3600, 0, {"status": "proposed", "seconds": 3600})
    ]
    assert [(p["type"], p["before_seconds"], p["after_seconds"], p["recorded"]) for p in rows[301][1]] == [
        ("missed_waypoint", 0, 3600, None)
    ]
    assert (
        answer["summary"]
        == "affects 2 entries, 2 penalties change (crossings: 1 gained, 1 lost, 0 moved; penalty seconds 3600 → 3600)"
    )
    assert answer["stages"][0]["recompute_on_save"] is True
    assert answer["on_save"] == "saving requests a recompute (course-edit) of Stage 1"


def test_radius_limit_and_polygon_edits(stack, api, ran):
    course, _ = ran
    # The opening radius decides where the crossing is: 2 km takes in #301's positions from 600 s on.
    wider = preview(api, "waypoints", course["wpn"], open_radius_m=2000)
    [entry] = wider["entries"]
    assert [(c["change"], c["before"]["ts"], c["after"]["ts"]) for c in entry["crossings"]] == [
        ("moved", "2026-06-07T08:30:00.000Z", "2026-06-07T08:10:00.000Z")
    ]
    assert entry["penalties"] == []
    # A limit of 80 km/h: #301's 77 is no excess, its 2 min go.
    limit = preview(api, "speed_limit_zones", course["zone"], speed_limit_kmh=80)
    [entry] = limit["entries"]
    assert (entry["race_number"], [(p["before_seconds"], p["after_seconds"]) for p in entry["penalties"]]) == (301, [(120, 0)])
    assert limit["stages"][0]["recompute_on_save"] is False  # the zone is not retroactive
    # The finish square moved 1 km east: nobody reaches it any more.
    finish = preview(api, "geofences", course["finish"], geometry=square(19.91, 41.30))
    assert sorted((e["race_number"], [c["change"] for c in e["crossings"]]) for e in finish["entries"]) == [
        (1, ["lost"]),
        (301, ["lost"]),
    ]


def test_the_preview_refuses_what_a_patch_would_refuse(stack, api, ran):
    course, _ = ran
    before = written(stack)
    for body, status, says in (
        ({"collection": "entries", "id": course["wpn"]["id"], "changes": {"notes": "x"}}, 400, "collection must be one of"),
        ({"collection": "waypoints", "id": course["wpn"]["id"], "changes": {"code": "WP9"}}, 400, "fields that decide crossings"),
        ({"collection": "waypoints", "id": course["wpn"]["id"], "changes": {"validation_radius_m": 5000}}, 400, "validation"),
        ({"collection": "geofences", "id": course["finish"]["id"], "changes": {"geometry": point()}}, 400, "Polygon"),
        (
            {"collection": "waypoints", "id": "00000000-0000-4000-8000-000000000000", "changes": {"open_radius_m": 900}},
            404,
            "no waypoints item",
        ),
    ):
        with pytest.raises(DirectusError) as info:
            api.post("/trm/course/preview", body)
        assert (info.value.status, says in info.value.what) == (status, True), info.value.render()
    assert written(stack) == before


def test_saving_an_edit_sends_one_course_edit_request(stack, api, ran):
    course, _ = ran
    stage = course["stage"]["id"]
    last = (read_stream(stack.redis.url) or [("0-0", {})])[-1][0]

    def sent(wait: float = 0) -> list[dict]:
        """The stage's messages after `last`; Directus runs actions after it answers: wait for one up to `wait` s."""
        deadline = time.monotonic() + wait
        while True:
            found = [m for i, m in read_stream(stack.redis.url, last) if i != last and m.get("stage_id") == stage]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    api.patch(f"/items/waypoints/{course['wpn']['id']}", {"notes": "roadbook: after the bridge"})
    api.patch(f"/items/speed_limit_zones/{course['zone']['id']}", {"speed_limit_kmh": 60})
    api.patch(f"/items/waypoints/{course['wpn']['id']}", {"location": point(19.8305, 41.305), "validation_radius_m": 150})
    [message] = sent(wait=10)  # one: the notes decide nothing, and the zone is not retroactive (from now on)
    me = api.get("/users/me")["id"]
    assert {k: v for k, v in message.items() if k not in ("request_id", "requested_at")} == {
        "version": "2",
        "kind": "course-edit",
        "stage_id": stage,
        "object_collection": "waypoints",
        "object_id": course["wpn"]["id"],
        "changed_fields": "location,validation_radius_m",
        "reason": "WPN WP3 of Stage 1: location, validation_radius_m changed",
        "requested_by": me,
    }
    [row] = query(
        stack.info.dsn, "SELECT kind, sent_at IS NOT NULL FROM recompute_requests WHERE id = %s", (message["request_id"],)
    )
    assert row == ("course-edit", True)
