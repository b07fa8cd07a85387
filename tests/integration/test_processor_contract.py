"""The processor contract (db-init/README.md "The processor contract"), played against a real stack.

No processor code: this test writes exactly what the processor will write, the way it will write
it (SQL with ON CONFLICT, on its own database connection), and then does what a race director
does through Directus's REST API (admin for now; access policies come with Phase 4):
1. the organiser sets up an event, two entries with a device each, a stage with a special stage,
   its start and finish geofences, a WPN waypoint, a speed zone, and the event's rules;
2. the processor inserts positions for both devices (twice: positions are idempotent too);
3. it writes crossings (twice: they stay once) and reads the winning formulas from the database; the
   crossings and the speeding excess are what the positions give under the crossing contract
   (db-init/README.md "How a crossing is decided"; test_course_preview.py evaluates it on them);
4. it writes proposed penalties with formula_snapshot and inputs, and the elapsed times (twice);
5. the race director applies one penalty, waives the other with a note, publishes the stage, and
   reads the ranking overall and per class.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.conftest import REPO, query
from tests.integration.graph import TimingGraph, imei, point, refused, square
from trm_directus.rules import load as rules_load
from trm_directus.rules import rules_file as rules

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

T0 = "2026-06-07T08:00:00+00:00"

POSITION = """
INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
VALUES (%s, %s::timestamptz + make_interval(secs => %s), '8E', %s, %s, 120, 90, %s, 12, 0)
ON CONFLICT (device_id, ts) DO NOTHING
"""
GEOFENCE_CROSSING = """
INSERT INTO entry_crossings (id, entry_id, geofence_id, ts, source, device_imei)
VALUES (gen_random_uuid(), %s, %s, %s::timestamptz + make_interval(secs => %s), 'gps', %s)
ON CONFLICT (entry_id, geofence_id, ts) DO NOTHING
"""
WAYPOINT_CROSSING = """
INSERT INTO entry_crossings (id, entry_id, waypoint_id, ts, source, device_imei)
VALUES (gen_random_uuid(), %s, %s, %s::timestamptz + make_interval(secs => %s), 'gps', %s)
ON CONFLICT (entry_id, waypoint_id, ts) DO NOTHING
"""
PROPOSED_PENALTY = """
INSERT INTO entry_penalties (id, entry_id, stage_id, type, formula_id, formula_snapshot, inputs, seconds, status, dedupe_key)
VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, 'proposed', %s)
ON CONFLICT (entry_id, dedupe_key) DO UPDATE
   SET formula_id = EXCLUDED.formula_id, formula_snapshot = EXCLUDED.formula_snapshot,
       inputs = EXCLUDED.inputs, seconds = EXCLUDED.seconds
 WHERE entry_penalties.status = 'proposed'
"""
ELAPSED = """
INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds)
VALUES (gen_random_uuid(), %s, %s, %s)
ON CONFLICT (entry_id, stage_id) DO UPDATE SET elapsed_seconds = EXCLUDED.elapsed_seconds
 WHERE stage_results.status = 'provisional'
"""
WINNING = (
    "SELECT id, offence_min, offence_max, operator, penalty_seconds, placeholder FROM trm_timing.penalty_formula_for(%s, %s, %s)"
)


# The two tracks along lat 41.305 (seconds after T0, longitude, speed km/h): the start square is lon
# 19.80-19.81, the WPN at 19.83 (opening radius 800 m, validation 200 m), the speed zone 19.85-19.86
# (50 km/h), the finish square 19.90-19.91. #301 enters the start at 0, jumps from 1.25 km out to 8 m
# of the WPN at 1800 (entry into the opening radius = validation), runs 77/76/75 km/h in the zone for
# 20 s (one excess: peak 77, 27 km/h over, 3 positions), finishes at 3600; #1 starts at 60, passes
# 2.8 km north of the WPN (missed), stays at or under 50 in the zone, finishes at 3720.
TRACKS = {
    "301": [(-10, 19.795, 20), (0, 19.801, 30), (600, 19.812, 60), (1790, 19.815, 60), (1800, 19.8301, 60),
            (1810, 19.835, 60), (2390, 19.845, 48), (2400, 19.851, 48), (2410, 19.853, 77), (2420, 19.856, 76),
            (2430, 19.858, 75), (2440, 19.861, 45), (3590, 19.895, 40), (3600, 19.901, 30)],
    "1": [(50, 19.795, 20), (60, 19.801, 30), (1200, 19.815, 60), (1860, 19.83, 60, 41.33), (2000, 19.845, 55),
          (2460, 19.852, 45), (2470, 19.855, 50), (2480, 19.858, 49), (2490, 19.862, 45), (3710, 19.895, 40), (3720, 19.901, 30)],
}  # fmt: skip
WPN_AT = (19.83, 41.305)


def processor_writes(conn, course: dict, entries: dict) -> None:
    """One run of the processor over the stage: positions, crossings, penalties, elapsed times."""
    device_a, device_b = course["imeis"]
    for device, track in ((device_a, TRACKS["301"]), (device_b, TRACKS["1"])):
        for t, lon, speed, *lat in track:
            conn.execute(POSITION, (device, T0, t, lat[0] if lat else 41.305, lon, speed))
    a, b = entries["301"], entries["1"]
    for entry, device, start, finish in ((a, device_a, 0, 3600), (b, device_b, 60, 3720)):
        conn.execute(GEOFENCE_CROSSING, (entry["id"], course["start"]["id"], T0, start, device))
        conn.execute(GEOFENCE_CROSSING, (entry["id"], course["finish"]["id"], T0, finish, device))
    conn.execute(WAYPOINT_CROSSING, (a["id"], course["wpn"]["id"], T0, 1800, device_a))  # entry 1 misses the WPN
    # The winning formulas, as the processor reads them: one flat row; brackets in order.
    missed = conn.execute(WINNING, ("missed_waypoint", "waypoint", course["wpn"]["id"])).fetchall()
    speeding = conn.execute(WINNING, ("speeding", "speed_limit_zone", course["zone"]["id"])).fetchall()
    over = 27  # entry 301's peak: 77 km/h in the 50 zone
    bracket = next(r for r in speeding if r[1] < over and (r[2] is None or over <= r[2]))
    for entry, type_, row, inputs, key in (
        (b, "missed_waypoint", missed[0], {"waypoint": course["wpn"]["code"], "closest_m": 412}, f"missed:{course['wpn']['id']}"),
        (
            a,
            "speeding",
            bracket,
            {"peak_kmh": 77, "limit_kmh": 50, "over_kmh": over, "samples": 3},
            f"speeding:{course['zone']['id']}",
        ),
    ):
        snapshot = dict(zip(("id", "offence_min", "offence_max", "operator", "penalty_seconds", "placeholder"), row, strict=True))
        snapshot["id"] = str(snapshot["id"])
        conn.execute(
            PROPOSED_PENALTY,
            (entry["id"], course["stage"]["id"], type_, row[0], json.dumps(snapshot), json.dumps(inputs), row[4], key),
        )
    conn.execute(ELAPSED, (a["id"], course["stage"]["id"], 3600))
    conn.execute(ELAPSED, (b["id"], course["stage"]["id"], 3660))


@pytest.fixture
def rally(api, tmp_path):
    """The organiser's part: event, classes, entries with devices, course, rules (REST and rules-import)."""
    tg = TimingGraph(api)
    event = tg.event()
    moto, car = tg.klass(event, code="M-1"), tg.klass(event, code="C-2")
    entries = {"301": tg.entry(event, car, race_number=301), "1": tg.entry(event, moto, race_number=1)}
    imeis = (imei(), imei())  # fresh: the stack is shared with other modules (IMEIs are unique)
    for entry, device_imei in ((entries["301"], imeis[0]), (entries["1"], imeis[1])):
        device = api.post("/items/devices", {"imei": device_imei, "model": "Teltonika FMB920"})
        api.post("/items/entry_devices", {"entry_id": entry["id"], "device_id": device["id"], "purpose": "chassis"})
    stage = tg.stage(event, name="Stage 1", status="open", starts_at="2026-06-07T07:55:00Z")  # the window of its positions
    start = tg.geofence(event, name="SS1 start", geometry=square(19.80, 41.30))
    finish = tg.geofence(event, name="SS1 finish", kind="finish", geometry=square(19.90, 41.30))
    segment = tg.segment(stage, entry_geofence_id=start["id"], exit_geofence_id=finish["id"])
    wpn = tg.waypoint(segment, type="WPN", code="WP3", location=point(*WPN_AT))
    zone = api.post("/items/speed_limit_zones", {"segment_id": segment["id"], "speed_limit_kmh": 50, "geometry": square(19.85)})
    text = (REPO / "seeds" / "rally-albania-2026-rules.yaml").read_text().replace("event: rally-albania-2026\n", "")
    (tmp_path / "rules.yaml").write_text(text)
    rules_load.import_rules(api, rules.load(tmp_path / "rules.yaml"), event["slug"])
    course = {"stage": stage, "start": start, "finish": finish, "wpn": wpn, "zone": zone, "imeis": imeis}
    return tg, course, entries, {"moto": moto, "car": car}


def test_the_processor_writes_and_the_race_director_publishes(stack, api, rally):
    _, course, entries, classes = rally
    stage = course["stage"]
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        processor_writes(conn, course, entries)
        processor_writes(conn, course, entries)  # a second run (restart, recompute) changes nothing

    crossings = query(
        stack.info.dsn,
        "SELECT count(*) FROM entry_crossings WHERE entry_id IN (%s, %s)",
        (entries["301"]["id"], entries["1"]["id"]),
    )
    assert crossings == [(5,)]
    positions = len(TRACKS["301"]) + len(TRACKS["1"])
    assert query(stack.info.dsn, "SELECT count(*) FROM positions WHERE device_id IN (%s, %s)", course["imeis"]) == [(positions,)]

    # The race director's review queue, through REST.
    proposed = api.get(
        "/items/entry_penalties",
        filter={"stage_id": {"_eq": stage["id"]}, "status": {"_eq": "proposed"}},
        fields="id,type,seconds,inputs,formula_snapshot,formula_id.summary,entry_id.race_number",
        sort="entry_id.race_number",
    )
    assert [(p["entry_id"]["race_number"], p["type"], p["seconds"]) for p in proposed] == [
        (1, "missed_waypoint", 3600),
        (301, "speeding", 120),
    ]
    assert proposed[1]["inputs"]["peak_kmh"] == 77 and proposed[1]["formula_snapshot"]["offence_min"] == 20
    assert proposed[1]["formula_id"]["summary"] == "speeding > 20 ≤ 40 km/h over: 2 min [PLACEHOLDER]"
    missed, speeding = proposed

    err = refused(lambda: api.patch(f"/items/stages/{stage['id']}", {"status": "official"}), code="INVALID_PAYLOAD")
    assert "2 proposed penalties awaiting review" in err.what
    api.patch(f"/items/entry_penalties/{speeding['id']}", {"status": "applied"})
    refused(lambda: api.patch(f"/items/entry_penalties/{missed['id']}", {"status": "waived"}), code="INVALID_PAYLOAD")
    api.patch(
        f"/items/entry_penalties/{missed['id']}",
        {"status": "waived", "note": "Marshal at WP3 saw #1 pass; GPS gap in the gorge."},
    )
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:  # the processor recomputes: reviewed rows stay as reviewed
        processor_writes(conn, course, entries)
    reviewed = {p["type"]: p for p in api.get("/items/entry_penalties", filter={"stage_id": {"_eq": stage["id"]}})}
    me = api.get("/users/me")["id"]
    assert {t: (p["status"], p["reviewed_by"]) for t, p in reviewed.items()} == {
        "missed_waypoint": ("waived", me),
        "speeding": ("applied", me),
    }

    api.patch(f"/items/stages/{stage['id']}", {"status": "closed"})
    api.patch(f"/items/stages/{stage['id']}", {"status": "official"})  # publish

    fields = (
        "entry_id.race_number,entry_id.class_id.code,elapsed_seconds,penalty_seconds,total_seconds,rank_overall,rank_class,status"
    )
    overall = api.get("/items/stage_results", filter={"stage_id": {"_eq": stage["id"]}}, sort="rank_overall", fields=fields)
    table = [
        (
            r["rank_overall"],
            r["entry_id"]["race_number"],
            r["entry_id"]["class_id"]["code"],
            r["elapsed_seconds"],
            r["penalty_seconds"],
            r["total_seconds"],
            r["rank_class"],
            r["status"],
        )
        for r in overall
    ]
    print("\nstage ranking, overall (rank, #, class, elapsed, penalty, total, class rank, status):")
    for row in table:
        print("  ", row)
    assert table == [
        (1, 1, "M-1", 3660, 0, 3660, 1, "official"),
        (2, 301, "C-2", 3600, 120, 3720, 1, "official"),
    ]
    in_class = api.get(
        "/items/stage_results",
        filter={"stage_id": {"_eq": stage["id"]}, "entry_id": {"class_id": {"_eq": classes["car"]["id"]}}},
        sort="rank_class",
        fields=fields,
    )
    assert [(r["rank_class"], r["entry_id"]["race_number"], r["total_seconds"]) for r in in_class] == [(1, 301, 3720)]
    assert all(r["status"] == "official" for r in overall)
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:  # after publication the processor can change nothing
        with pytest.raises(psycopg.errors.CheckViolation, match="the stage is official"):
            conn.execute(ELAPSED, (entries["301"]["id"], stage["id"], 1))
        with pytest.raises(psycopg.errors.CheckViolation, match="its penalties are final"):
            processor_writes(conn, course, entries)
