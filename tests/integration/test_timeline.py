"""The entry timeline (GET /trm/entries/:id/timeline) of Rally Albania's entry 301, written the way it
happens at a rally: the seed registers it; the race director changes its status and crew and swaps a
device; a marshal flags its tracker's positions and asks it for a fix (a device command); the
prologue opens (start slots), a waypoint is moved (course-edit request); the processor proposes a
penalty and records a time (SQL); the race director applies, then waives it, and publishes the
stage. Each reader sees what they may read: staff with roles, the crew with names only (no e-mails),
others the same 403 as for no entry at all. History older than the retention (400 days) is trimmed,
the part log with it.
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from tests.conftest import query
from tests.integration.access_world import A_USERS, NO_ORG, PASSWORD
from tests.integration.graph import imei, point
from tests.security.conftest import GHOST, call, masked
from trm_directus.directus.api import Directus
from trm_directus.seed import loader
from trm_directus.seed import seed_file as document

pytestmark = [pytest.mark.integration, pytest.mark.directus]

PENALTY = """INSERT INTO entry_penalties (id, entry_id, stage_id, type, inputs, seconds, status, dedupe_key)
VALUES (gen_random_uuid(), %s, %s, 'speeding', '{"peak_kmh": 77, "limit_kmh": 50}', 120, 'proposed', 'speeding:bench')"""
# History written `days` ago (the retention test), and what is left of it.
OLD_ACTIVITY = """INSERT INTO directus_activity (action, timestamp, collection, item)
VALUES ('update', now() - make_interval(days => %s), 'entries', %s) RETURNING id"""
OLD_REVISION = "INSERT INTO directus_revisions (activity, collection, item, data, delta) VALUES (%s, 'entries', %s, '{}', '{}')"
OLD_PART = """INSERT INTO trm_audit.entry_rows (at, op, collection, item, entry_id, row)
VALUES (now() - make_interval(days => %s), 'insert', 'entries', %s, %s, '{}') RETURNING id"""
LEFT = """SELECT (SELECT count(*) FROM directus_activity WHERE id = %s),
                 (SELECT count(*) FROM directus_revisions WHERE activity = %s),
                 (SELECT count(*) FROM trm_audit.entry_rows WHERE id = %s)"""
ELAPSED = "INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds) VALUES (gen_random_uuid(), %s, %s, 3600)"


@pytest.fixture(scope="module")
def rally(stack, api):
    """Rally Albania seeded; its staff, pilot and viewer (and a person of no organisation) log in."""
    from tests.conftest import REPO

    loader.load(api, document.load(REPO / "seeds" / "rally-albania-2026.yaml"))
    [member] = api.get("/roles", filter={"name": {"_eq": "Member"}}, fields="id")
    api.post("/users", {"email": NO_ORG, "first_name": "No", "last_name": "Orgtest"})
    people = {}
    for email in (*A_USERS.values(), NO_ORG):
        [user] = api.get("/users", filter={"email": {"_eq": email}}, fields="id")
        api.patch(f"/users/{user['id']}", {"role": member["id"], "password": PASSWORD, "status": "active"})
        people[email] = Directus.login(stack.url, email, PASSWORD)
    event = api.get("/items/events", filter={"slug": {"_eq": "rally-albania-2026"}}, fields="id,organization_id")[0]
    [entry] = api.get("/items/entries", filter={"event_id": {"_eq": event["id"]}, "race_number": {"_eq": 301}}, fields="id")
    return event, entry["id"], people


@pytest.fixture(scope="module")
def story(stack, api, rally):
    """What happens to #301, by whom (the steps of the module docstring)."""
    event, entry, people = rally
    rita, marco = people[A_USERS["race-director"]], people[A_USERS["marshal"]]
    rita.patch(f"/items/entries/{entry}", {"status": "scrutineered"})
    crew = api.get("/items/entry_crew", filter={"entry_id": {"_eq": entry}}, fields="id,role,user_id.email")
    rita.delete(f"/items/entry_crew/{next(c['id'] for c in crew if c['role'] == 'co-pilot')}")
    [marco_id] = [u["id"] for u in api.get("/users", filter={"email": {"_eq": A_USERS["marshal"]}}, fields="id")]
    rita.post("/items/entry_crew", {"entry_id": entry, "user_id": marco_id, "role": "mechanic"})
    spare = api.post("/items/devices", {"imei": imei(), "model": "Teltonika FMB003"})
    api.post("/items/organization_devices", {"organization_id": event["organization_id"], "device_id": spare["id"]})
    devices = api.get("/items/entry_devices", filter={"entry_id": {"_eq": entry}}, fields="id,purpose,device_id.imei")
    backup = next(d for d in devices if d["purpose"] == "backup")
    rita.patch(f"/items/entry_devices/{backup['id']}", {"device_id": spare["id"]})
    chassis = next(d for d in devices if d["purpose"] == "chassis")["device_id"]["imei"]
    window = {"from": "2026-06-06T08:02:00Z", "to": "2026-06-06T08:04:00Z"}
    marco.post("/trm/positions/faulty", {"imei": chassis, **window, "reason": "multipath under the bridge"})
    tracker = next(d for d in api.get("/items/devices", filter={"imei": {"_eq": chassis}}, fields="id"))
    command = marco.post("/items/commands", {"device_id": tracker["id"], "kind": "getgps"})  # no gateway holds it: failed
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:  # sent during the prologue (the test runs later)
        conn.execute("UPDATE commands SET queued_at = '2026-06-06T08:05:00Z' WHERE id = %s", (command["id"],))
    prologue = api.get("/items/stages", filter={"event_id": {"_eq": event["id"]}, "sort_order": {"_eq": 0}}, fields="id")[0]["id"]
    rita.patch(f"/items/stages/{prologue}", {"status": "open"})
    waypoint = api.get("/items/waypoints", filter={"segment_id": {"stage_id": {"_eq": prologue}}}, fields="id,location", limit=1)[
        0
    ]
    lon, lat = waypoint["location"]["coordinates"]
    rita.patch(f"/items/waypoints/{waypoint['id']}", {"location": point(lon + 0.001, lat)})
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:  # the processor
        conn.execute(PENALTY, (entry, prologue))
        conn.execute(ELAPSED, (entry, prologue))
    [penalty] = api.get("/items/entry_penalties", filter={"entry_id": {"_eq": entry}}, fields="id")
    rita.patch(f"/items/entry_penalties/{penalty['id']}", {"status": "applied"})
    rita.patch(f"/items/entry_penalties/{penalty['id']}", {"status": "waived", "note": "radar on the wrong road"})
    rita.patch(f"/items/stages/{prologue}", {"status": "closed"})
    rita.patch(f"/items/stages/{prologue}", {"status": "official"})
    return entry


def lines(timeline: dict) -> list[str]:
    """The timeline as text: when, kind, what, who, and the changes before → after."""
    out = []
    for i in timeline["items"]:
        who = (
            "the system"
            if i["who"] is None
            else f"{i['who']['name'] or 'someone'}" + (f" ({i['who']['role']})" if i["who"]["role"] else "")
        )
        out.append(f"{i['at'][:19]}  {i['kind']:<11} {i['what']}  — {who}")
        out += [f"{'':34}{c['field']}: {c['before']} → {c['after']}" for c in i["changes"] if c["before"] is not None]
    return out


def test_the_timeline_of_entry_301_in_order(rally, story, evidence):
    _, entry, people = rally
    rita = people[A_USERS["race-director"]]
    timeline = rita.get(f"/trm/entries/{entry}/timeline", order="asc", limit=500)
    evidence(f"GET /trm/entries/{entry}/timeline?order=asc as rita.director (race director):")
    evidence("\n".join(lines(timeline)))
    said = [(i["kind"], i["what"], (i["who"] or {}).get("role")) for i in timeline["items"]]
    expected = [
        # dated in the prologue (the test sets queued_at there), so before the rest, which happens today
        ("command", "Command getgps to 352094107973098 (Teltonika FMB920): failed", "marshal"),
        ("entry", "Entry #301 registered in C-2 (confirmed)", None),
        ("entry", "Status confirmed → scrutineered", "race-director"),
        ("crew", "Nora Navigatortest left the crew (co-pilot)", "race-director"),
        ("crew", "Marco Marshaltest joined the crew as mechanic", "race-director"),
        ("device", "Device swapped", "race-director"),
        (
            "faulty-flag",
            "flagged faulty from 2026-06-06T08:02:00.000Z to 2026-06-06T08:04:00.000Z: multipath under the bridge",
            "marshal",
        ),
        ("start", "Start slot: segment", None),
        ("course-edit", "of Prologue (location) — recompute of the stage requested", "race-director"),
        ("penalty", "Penalty proposed: speeding, 2 min (Prologue)", None),
        ("result", "Result of Prologue recorded: 3600 s", None),
        ("penalty", "Penalty applied: speeding, 2 min (Prologue)", "race-director"),
        ("penalty", "Penalty waived: speeding, 2 min (Prologue) — radar on the wrong road", "race-director"),
        ("result", "Result of Prologue published: 3600 s, rank 1 overall, 1 in class", "race-director"),
    ]
    found = iter(said)
    for kind, text, role in expected:  # in this order, with others (the seed's crew and devices) between them
        assert any(k == kind and text in w and (role is None or r == role) for k, w, r in found), (kind, text, said)
    assert timeline["total"] == len(timeline["items"]) and timeline["kinds"]["crew"] >= 4
    swap = next(i for i in timeline["items"] if i["what"].startswith("Device swapped"))
    [change] = swap["changes"]
    assert change["field"] == "device_id" and change["before"].endswith("(Teltonika FMB920)") and "FMB003" in change["after"]


def test_pages_and_kinds(rally, story):
    _, entry, people = rally
    rita = people[A_USERS["race-director"]]
    everything = rita.get(f"/trm/entries/{entry}/timeline", order="desc", limit=500)["items"]
    pages = [rita.get(f"/trm/entries/{entry}/timeline", order="desc", limit=4, page=n)["items"] for n in range(1, 20)]
    assert [i for p in pages for i in p] == everything
    assert [i["at"] for i in everything] == sorted((i["at"] for i in everything), reverse=True)
    crew = rita.get(f"/trm/entries/{entry}/timeline", kind="crew,device")
    assert {i["kind"] for i in crew["items"]} == {"crew", "device"} and crew["total"] == len(crew["items"])
    status, data = call(rita, "GET", f"/trm/entries/{entry}/timeline", kind="gossip", limit="0")
    assert status == 400 and "limit must be a whole number from 1 to 500" in json.dumps(data) and "gossip" in json.dumps(data)


def test_the_crew_sees_names_and_no_contacts_and_others_see_nothing(api, rally, story):
    _, entry, people = rally
    paul = people[A_USERS["participant"]]  # crew of #301
    timeline = paul.get(f"/trm/entries/{entry}/timeline", limit=500)
    text = json.dumps(timeline)
    assert "@" not in text  # no e-mail of anyone
    by_rita = [i["who"] for i in timeline["items"] if i["what"].startswith("Status confirmed")]
    assert by_rita == [{"name": "Rita Directortest", "role": None}]  # her membership is not the pilot's to read
    assert any("Marco Marshaltest joined the crew" in i["what"] for i in timeline["items"])
    for who in (A_USERS["viewer"], NO_ORG, None):
        client = people[who] if who else Directus(api.url, "")
        real = call(client, "GET", f"/trm/entries/{entry}/timeline")
        ghost = call(client, "GET", f"/trm/entries/{GHOST}/timeline")
        assert real[0] == 403 and masked(real) == masked(ghost), (who, real, ghost)
    assert (
        api.get(f"/trm/entries/{entry}/timeline", limit=1)["total"]
        == paul.get(f"/trm/entries/{entry}/timeline", limit=1)["total"]
    )
    status, _ = call(api, "GET", f"/trm/entries/{GHOST}/timeline")
    assert status == 404  # administrators learn that it does not exist


def test_history_is_kept_400_days_and_trimmed_after(stack, rally, story):
    """RETENTION_ENABLED with 400 days (stacks/base.py, the image): activity older than that goes with its
    revisions, and so does the part log; anything younger stays. Directus's job runs on RETENTION_SCHEDULE,
    here every 2 seconds (a restart of this module's Directus, its last test)."""
    _, entry, _ = rally
    ids = {}
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        for name, days in (("old", 401), ("young", 399)):
            [(activity,)] = conn.execute(OLD_ACTIVITY, (days, entry)).fetchall()
            conn.execute(OLD_REVISION, (activity, entry))
            [(log,)] = conn.execute(OLD_PART, (days, entry, entry)).fetchall()
            ids[name] = (activity, log)
    stack.info.env["RETENTION_SCHEDULE"] = "*/2 * * * * *"
    stack.stop_directus()
    stack.boot()

    def left(name: str) -> tuple[int, int, int]:
        activity, log = ids[name]
        return query(stack.info.dsn, LEFT, (activity, activity, log))[0]

    deadline = time.monotonic() + 60
    while left("old") != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(1)
    assert (left("old"), left("young")) == ((0, 0, 0), (1, 1, 1))
