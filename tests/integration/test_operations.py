"""Phase 5 operations (extensions/trm-operations) on a native stack with real PostgreSQL and Redis.

The faulty flag: rows flagged and the request recorded in one transaction, one message on the
stream `recompute:requests` (with Redis stopped: test_operations_redis.py, on its own stack). The
discipline rules: 400 with the rule, on create, update and batch. Copy crew: all or nothing.
On the session's shared stack: every test works on its own organisation, devices and users.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import query
from tests.integration.graph import refused
from trm_directus.errors import DirectusError
from trm_directus.processor import insert_positions, read_stream

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

T0 = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def faulty_count(stack, imei: str) -> int:
    return query(stack.info.dsn, "SELECT count(*) FROM positions WHERE device_id = %s AND faulty", (imei,))[0][0]


def flag(api, imei: str, start: datetime, end: datetime, **over):
    return api.post("/trm/positions/faulty", {"imei": imei, "from": iso(start), "to": iso(end), "reason": "multipath", **over})


# --- faulty flag ---------------------------------------------------------------------------------


def test_flag_updates_the_window_records_the_request_and_sends_one_stream_message(stack, api, g):
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 600)  # 10 minutes, one per second
    before = read_stream(stack.redis.url)
    r = flag(api, imei, T0 + timedelta(minutes=2), T0 + timedelta(minutes=5), reason="multipath in the canyon")
    assert r["status"] == "sent" and r["rows_changed"] == 180, r
    assert faulty_count(stack, imei) == 180  # [from, to): the position at to is not flagged
    new = read_stream(stack.redis.url)[len(before) :]
    assert len(new) == 1
    stream_id, message = new[0]
    assert stream_id == r["stream_id"]
    me = api.get("/users/me")["id"]
    assert message == {
        "version": "1",
        "request_id": r["request_id"],
        "kind": "faulty-flag",
        "device_id": imei,
        "window_start": "2026-06-08T07:02:00.000Z",
        "window_end": "2026-06-08T07:05:00.000Z",
        "faulty": "true",
        "reason": "multipath in the canyon",
        "requested_by": me,
        "requested_at": r["requested_at"],
        "rows_changed": "180",
    }
    row = query(
        stack.info.dsn,
        "SELECT requested_by::text, rows_changed, reason, sent_at IS NOT NULL, stream_id FROM recompute_requests WHERE id = %s",
        (r["request_id"],),
    )
    assert row == [(me, 180, "multipath in the canyon", True, stream_id)]


def test_clearing_counts_only_rows_that_change(stack, api, g):
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 100)
    flag(api, imei, T0, T0 + timedelta(seconds=50))
    again = flag(api, imei, T0, T0 + timedelta(seconds=50))
    assert again["rows_changed"] == 0 and again["status"] == "sent"  # recorded and sent all the same
    cleared = flag(api, imei, T0 + timedelta(seconds=40), T0 + timedelta(seconds=100), faulty=False, reason="re-checked")
    assert cleared["rows_changed"] == 10 and faulty_count(stack, imei) == 40


def test_bad_requests_are_refused_with_every_problem_and_change_nothing(stack, api, g):
    imei = g.device()["imei"]
    insert_positions(stack.info.dsn, imei, T0, 10)
    n = query(stack.info.dsn, "SELECT count(*) FROM recompute_requests")[0][0]
    err = refused(lambda: flag(api, imei, T0 + timedelta(minutes=1), T0, reason=" "), code="INVALID_PAYLOAD")
    assert "to must be after from" in err.what and "reason is required" in err.what
    with pytest.raises(DirectusError) as unknown:
        flag(api, "999999999999999", T0, T0 + timedelta(minutes=1))
    assert unknown.value.status == 404 and "no device with IMEI 999999999999999" in unknown.value.what
    assert faulty_count(stack, imei) == 0
    assert query(stack.info.dsn, "SELECT count(*) FROM recompute_requests")[0][0] == n


def test_only_administrators_and_staff_of_an_event_using_the_device_may_flag_within_its_dates(stack, api, g):
    imei = g.device()["imei"]
    device = api.get("/items/devices", filter={"imei": {"_eq": imei}}, fields="id")[0]
    insert_positions(stack.info.dsn, imei, T0, 10)
    with pytest.raises(DirectusError) as anonymous:
        type(api)(api.url, "not-a-token").post("/trm/positions/faulty", {"imei": imei})
    assert anonymous.value.status in (401, 403)
    person, token = g.user(), f"flag-person-{uuid.uuid4().hex}"  # tokens are unique: a fresh one on a shared stack
    api.patch(f"/users/{person['id']}", {"token": token})
    as_person = type(api)(api.url, token)
    owner, other = g.org(), g.org()
    api.post("/items/organization_devices", {"organization_id": owner["id"], "device_id": device["id"]})
    rally = g.event(owner)  # 2026-06-06 06:00 - 2026-06-13 18:00 UTC; T0 is 2026-06-08 07:00
    api.post("/items/entry_devices", {"entry_id": g.entry(rally)["id"], "device_id": device["id"], "purpose": "chassis"})

    def refused_as(role_where: str, start=T0, end=T0 + timedelta(minutes=1), text="may not flag") -> str:
        with pytest.raises(DirectusError) as forbidden:
            flag(as_person, imei, start, end)
        assert forbidden.value.status == 403 and text in forbidden.value.what, role_where
        return forbidden.value.what

    unknown = refused_as("no org role at all")
    membership = api.post(
        "/items/organization_users", {"organization_id": other["id"], "user_id": person["id"], "role": "marshal"}
    )
    refused_as("marshal of another organisation than the event's")
    # an outsider learns nothing: an IMEI that exists nowhere is refused with the same words
    with pytest.raises(DirectusError) as nowhere:
        flag(as_person, "999999999999999", T0, T0 + timedelta(minutes=1))
    assert nowhere.value.status == 403 and nowhere.value.what.replace("999999999999999", imei) == unknown
    api.delete(f"/items/organization_users/{membership['id']}")
    membership = api.post(
        "/items/organization_users", {"organization_id": owner["id"], "user_id": person["id"], "role": "participant"}
    )
    refused_as("participant of the event's organisation")
    api.patch(f"/items/organization_users/{membership['id']}", {"role": "marshal", "status": "invited"})
    refused_as("marshal of the event's organisation who has not accepted the membership")
    api.patch(f"/items/organization_users/{membership['id']}", {"status": "active"})
    after = refused_as("marshal, a window after the event", T0 + timedelta(days=10), T0 + timedelta(days=10, minutes=1))
    assert "within the dates" in after and "Test Rally" in after
    assert faulty_count(stack, imei) == 0
    done = flag(as_person, imei, T0, T0 + timedelta(minutes=1))
    assert done["rows_changed"] == faulty_count(stack, imei) > 0
    assert (
        query(stack.info.dsn, "SELECT requested_by::text FROM recompute_requests WHERE id = %s", (done["request_id"],))[0][0]
        == person["id"]
    )


# --- discipline rules ----------------------------------------------------------------------------


def test_discipline_rules_refuse_roles_and_vehicles_with_the_rule(stack, api, g):
    rally = g.event()
    entry = g.entry(rally, vehicle_id=g.vehicle()["id"])
    err = refused(
        lambda: api.post("/items/entry_crew", {"entry_id": entry["id"], "user_id": g.user()["id"], "role": "hiker"}),
        code="INVALID_PAYLOAD",
    )
    assert "crew role hiker is not allowed in a rally event" in err.what
    err = refused(lambda: g.entry(rally, {"id": entry["class_id"]}, race_number=302, vehicle_id=None), code="INVALID_PAYLOAD")
    assert "a rally entry needs a vehicle" in err.what
    run = g.event(discipline="trail-run")
    run_class = g.klass(run)
    err = refused(lambda: g.entry(run, run_class, vehicle_id=g.vehicle()["id"]), code="INVALID_PAYLOAD")
    assert "a trail-run entry has no vehicle" in err.what
    runner_entry = g.entry(run, run_class, race_number=7)
    api.post("/items/entry_crew", {"entry_id": runner_entry["id"], "user_id": g.user()["id"], "role": "runner"})
    # Update: a vehicle added later, a role changed later.
    err = refused(
        lambda: api.patch(f"/items/entries/{runner_entry['id']}", {"vehicle_id": g.vehicle()["id"]}), code="INVALID_PAYLOAD"
    )
    assert "a trail-run entry has no vehicle" in err.what
    pilot = api.post("/items/entry_crew", {"entry_id": entry["id"], "user_id": g.user()["id"], "role": "pilot"})
    err = refused(lambda: api.patch(f"/items/entry_crew/{pilot['id']}", {"role": "runner"}), code="INVALID_PAYLOAD")
    assert "crew role runner is not allowed in a rally event" in err.what
    # An event whose entries would break the new discipline keeps its discipline.
    err = refused(lambda: api.patch(f"/items/events/{rally['id']}", {"discipline": "hike"}), code="INVALID_PAYLOAD")
    assert "the event cannot become hike: entry 301: a hike entry has no vehicle" in err.what


def test_discipline_rules_apply_to_every_item_of_a_batch_and_write_nothing(stack, api, g):
    entry = g.entry(vehicle_id=g.vehicle()["id"])
    users = [g.user()["id"] for _ in range(3)]
    batch = [
        {"entry_id": entry["id"], "user_id": users[0], "role": "pilot"},
        {"entry_id": entry["id"], "user_id": users[1], "role": "pilot"},  # a second pilot
        {"entry_id": entry["id"], "user_id": users[2], "role": "navigator"},
    ]
    err = refused(lambda: api.post("/items/entry_crew", batch), code="INVALID_PAYLOAD")
    assert "a rally entry has at most 1 pilot (this would make 2)" in err.what
    assert query(stack.info.dsn, "SELECT count(*) FROM entry_crew WHERE entry_id = %s", (entry["id"],))[0][0] == 0
    rows = api.post("/items/entry_crew", [batch[0], batch[2]])
    err = refused(
        lambda: api.patch("/items/entry_crew", [{"id": r["id"], "role": "hiker"} for r in rows]), code="INVALID_PAYLOAD"
    )
    assert "crew role hiker is not allowed" in err.what


# --- copy crew -----------------------------------------------------------------------------------


def crew_of(stack, entry_id: str) -> set[tuple[str, str]]:
    return set(query(stack.info.dsn, "SELECT user_id::text, role FROM entry_crew WHERE entry_id = %s", (entry_id,)))


def test_copy_crew_copies_crew_and_devices_all_or_nothing(stack, api, g):
    org = g.org()
    last_year, this_year = g.event(org), g.event(org)
    pilot, navigator = g.user()["id"], g.user()["id"]
    chassis, panic = g.device()["id"], g.device()["id"]
    old = g.entry(last_year, vehicle_id=g.vehicle()["id"])
    api.post(
        "/items/entry_crew",
        [
            {"entry_id": old["id"], "user_id": pilot, "role": "pilot"},
            {"entry_id": old["id"], "user_id": navigator, "role": "navigator"},
        ],
    )
    api.post(
        "/items/entry_devices",
        [{"entry_id": old["id"], "device_id": chassis}, {"entry_id": old["id"], "device_id": panic, "assigned_user_id": pilot}],
    )
    new = g.entry(this_year, vehicle_id=g.vehicle()["id"])
    other = g.entry(this_year, {"id": new["class_id"]}, race_number=305, vehicle_id=g.vehicle()["id"])
    api.post("/items/entry_devices", {"entry_id": other["id"], "device_id": panic})  # panic button already used this year

    err = refused(
        lambda: api.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot}),
        code="INVALID_PAYLOAD",
    )
    assert f"device {panic} is already assigned to entry 305 of this event" in err.what
    assert crew_of(stack, new["id"]) == set()  # all or nothing

    api.delete(f"/items/entry_devices/{api.get('/items/entry_devices', filter={'entry_id': {'_eq': other['id']}})[0]['id']}")
    copied = api.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot})
    assert len(copied["crew"]) == 2 and len(copied["devices"]) == 2
    assert crew_of(stack, new["id"]) == {(pilot, "pilot"), (navigator, "navigator")}
    devices = set(
        query(
            stack.info.dsn, "SELECT device_id::text, assigned_user_id::text FROM entry_devices WHERE entry_id = %s", (new["id"],)
        )
    )
    assert devices == {(chassis, None), (panic, pilot)}
    err = refused(
        lambda: api.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot}),
        code="INVALID_PAYLOAD",
    )
    assert "nothing to copy" in err.what


def test_copy_crew_is_for_org_admins_and_race_directors_of_the_entrys_organisation(stack, api, g):
    org = g.org()
    last_year, this_year = g.event(org), g.event(org)
    pilot = g.user()["id"]
    old = g.entry(last_year, vehicle_id=g.vehicle()["id"])
    api.post("/items/entry_crew", {"entry_id": old["id"], "user_id": pilot, "role": "pilot"})
    new = g.entry(this_year, vehicle_id=g.vehicle()["id"])
    [member_role] = api.get("/roles", filter={"name": {"_eq": "Member"}}, fields="id")
    clerk, token = g.user(), f"copy-clerk-{uuid.uuid4().hex}"
    api.patch(f"/users/{clerk['id']}", {"role": member_role["id"], "token": token})
    as_clerk = type(api)(api.url, token)
    membership = api.post("/items/organization_users", {"organization_id": org["id"], "user_id": clerk["id"], "role": "marshal"})
    with pytest.raises(DirectusError) as forbidden:
        as_clerk.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot})
    assert forbidden.value.status == 403 and "org admins and race directors" in forbidden.value.what
    assert crew_of(stack, new["id"]) == set()
    api.patch(f"/items/organization_users/{membership['id']}", {"role": "race-director"})
    copied = as_clerk.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot})
    assert len(copied["crew"]) == 1 and crew_of(stack, new["id"]) == {(pilot, "pilot")}


def test_copy_crew_refuses_a_crew_the_target_discipline_forbids(stack, api, g):
    org = g.org()
    rally, run = g.event(org), g.event(org, discipline="trail-run")
    pilot = g.user()["id"]
    old = g.entry(rally, vehicle_id=g.vehicle()["id"])
    api.post("/items/entry_crew", {"entry_id": old["id"], "user_id": pilot, "role": "pilot"})
    new = g.entry(run, race_number=12)
    err = refused(
        lambda: api.post(f"/trm/entries/{new['id']}/copy-crew", {"from_entry_id": old["id"], "person_id": pilot}),
        code="INVALID_PAYLOAD",
    )
    assert "crew role pilot is not allowed in a trail-run event (allowed: runner)" in err.what
    assert crew_of(stack, new["id"]) == set()
