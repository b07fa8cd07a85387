"""The five reproductions of issue 21, each a refusal that leaves the database (and Redis) unchanged.

Organisation A: Motorsport Club Albania (Rally Albania 2026); B: Adriatic Trail Club. cora is a
participant in A and org-admin of B. Every refusal is checked against a fingerprint of every
collection, the policy links (directus_access), users, activity, revisions, positions, the
recompute requests and the Redis stream.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import A_USERS, B_USERS, CORA, GHOST, Fingerprint, call, masked, messages

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def unchanged(fingerprint: Fingerprint, before: dict, what: str) -> None:
    assert Fingerprint.changed(before, fingerprint.take()) == [], what


def stage_named(world, name: str) -> dict:
    [stage] = world.api.get("/items/stages", filter={"event_id": {"_eq": world.a.event}, "name": {"_eq": name}})
    return stage


def starts_of(world, stage_id: str) -> list[dict]:
    return world.api.get("/items/entry_segment_starts", filter={"segment_id": {"stage_id": {"_eq": stage_id}}}, limit=-1)


def test_1_an_anonymous_or_viewer_patch_opens_no_start_list(world, people, fingerprint):
    admin = world.api
    prologue = stage_named(world, "Prologue")
    assert prologue["status"] == "draft"
    existing = {s["id"] for s in starts_of(world, prologue["id"])}  # the world's reference start row
    racers = admin.get("/items/entries", filter={"event_id": {"_eq": world.a.event}}, sort="race_number", limit=3)
    for e in racers:  # three starters, as in the report
        admin.patch(f"/items/entries/{e['id']}", {"status": "scrutineered"})
    body = {
        "status": "open",
        "start_order_strategy": "manual",
        "start_order_strategy_params": {"order": []},
        "starts_at": "2000-01-01T00:00:00Z",
        "start_interval_seconds": 0,
    }
    try:
        for who in (None, A_USERS["viewer"], B_USERS["race-director"]):
            before = fingerprint.take()
            status, data = call(people(who), "PATCH", f"/items/stages/{prologue['id']}", body)
            assert status == 403 and "FORBIDDEN" in json.dumps(data), (who, status, data)
            # a query from outside reaches nothing, and says so the same way as for a stage that does not exist
            status, data = call(
                people(who), "PATCH", "/items/stages", {"query": {"filter": {"name": {"_eq": "Prologue"}}}, "data": body}
            )
            assert (status, data) in ((200, []), (403, data)), (who, status, data)
            unchanged(fingerprint, before, f"{who or 'anonymous'} opened the prologue")
        # the legitimate opening afterwards starts from an empty start list
        rita = people(A_USERS["race-director"])
        status, data = call(rita, "PATCH", f"/items/stages/{prologue['id']}", {**body, "starts_at": "2026-06-06T08:00:00Z"})
        assert status == 200 and data["status"] == "open", data
        new = [s for s in starts_of(world, prologue["id"]) if s["id"] not in existing]
        # (a segment after one without a target duration has no targets: a timekeeper sets them)
        assert len(new) >= 3 and {s["target_at"][:4] for s in new if s["target_at"]} == {"2026"}, new
    finally:
        for s in starts_of(world, prologue["id"]):
            if s["id"] not in existing:
                admin.delete(f"/items/entry_segment_starts/{s['id']}")
        keep = ("status", "start_order_strategy", "start_order_strategy_params", "starts_at", "start_interval_seconds")
        admin.patch(f"/items/stages/{prologue['id']}", {k: prologue[k] for k in keep})
        for e in racers:
            admin.patch(f"/items/entries/{e['id']}", {"status": e["status"]})


def test_2_an_extra_organization_id_key_does_not_choose_the_organisation(world, people, fingerprint):
    cora = people(CORA)  # participant in A, org-admin in B
    body = {"event_id": world.a.event, "name": "x1", "sort_order": 71, "kind": "stage"}
    before = fingerprint.take()
    status, data = call(cora, "POST", "/items/stages", body)
    assert status == 403 and "yours there: participant" in json.dumps(data), data
    status, data = call(cora, "POST", "/items/stages", {**body, "organization_id": world.b.org})
    assert status == 403 and "yours there: participant" in json.dumps(data), data
    unchanged(fingerprint, before, "cora created a stage in A's event")
    # a key that is not a field is refused for everyone, naming it, instead of being dropped
    status, data = call(world.api, "POST", "/items/stages", {**body, "organization_id": world.b.org})
    assert status == 400 and 'stages has no field "organization_id"' in messages(data), data
    status, data = call(cora, "POST", "/items/stages", {**body, "event_id": world.b.event, "organization_id": world.b.org})
    assert status == 400 and 'stages has no field "organization_id"' in messages(data), data
    unchanged(fingerprint, before, "a stage was created with an unknown key")


def test_3_a_refused_membership_update_grants_no_policy(world, people, fingerprint):
    paul_id = world.users[A_USERS["participant"]]
    paul = people(A_USERS["participant"])
    grant = {"user_id": paul_id, "role": "org-admin"}
    before = fingerprint.take()
    status, data = call(paul, "PATCH", "/items/organization_users", {"query": {"limit": 1}, "data": grant})
    assert status == 403, data
    [mine] = world.api.get("/items/organization_users", filter={"user_id": {"_eq": paul_id}})
    for body in ({"keys": [mine["id"]], "data": grant}, [{"id": mine["id"], **grant}]):
        status, data = call(paul, "PATCH", "/items/organization_users", body)
        assert status == 403, (body, data)
    status, data = call(paul, "PATCH", f"/items/organization_users/{mine['id']}", {"role": "org-admin"})
    assert status == 403, data
    # a query for memberships he cannot see finds nothing: no answer tells him they exist
    status, data = call(
        paul, "PATCH", "/items/organization_users", {"query": {"filter": {"role": {"_eq": "org-admin"}}}, "data": grant}
    )
    assert (status, data) == (200, []), data
    unchanged(fingerprint, before, "paul's refused update changed something (policy links?)")
    world.api.clear_cache()
    status, _ = call(paul, "GET", "/settings", fields="project_name")
    assert status == 403  # no Data Studio


def test_4_another_clubs_tracker_cannot_be_claimed_flagged_or_edited(world, people, fingerprint):
    admin, cora = world.api, people(CORA)
    imei = admin.get(f"/items/devices/{world.a.device}")["imei"]
    june = {"imei": imei, "from": "2026-06-01T00:00:00Z", "to": "2026-06-30T00:00:00Z", "faulty": True, "reason": "x"}
    before = fingerprint.take()
    status, data = call(
        cora, "POST", "/items/organization_devices", {"organization_id": world.b.org, "device_id": world.a.device}
    )
    assert status == 403 and "registered to another organisation" in json.dumps(data), data
    status, data = call(cora, "POST", "/trm/positions/faulty", june)
    assert status == 403, data
    status, data = call(cora, "PATCH", f"/items/devices/{world.a.device}", {"serial_number": "hijacked"})
    assert status == 403, data
    unchanged(fingerprint, before, "cora claimed, flagged or edited A's tracker")
    # With the lender's consent (here an administrator's) the tracker serves B too; still, B's staff
    # flag it only for B's events that use it, within their dates: not during A's rally.
    shared = admin.post("/items/organization_devices", {"organization_id": world.b.org, "device_id": world.a.device})
    try:
        before = fingerprint.take()
        for who in (CORA, B_USERS["marshal"]):
            status, data = call(people(who), "POST", "/trm/positions/faulty", june)
            assert status == 403, (who, data)
        unchanged(fingerprint, before, "B flagged A's tracker during A's rally")
    finally:
        admin.delete(f"/items/organization_devices/{shared['id']}")


def test_5a_copy_crew_reads_the_source_entry_as_the_caller(world, people, fingerprint):
    dino = people(B_USERS["race-director"])  # race director of B
    body = {"from_entry_id": world.a.entry, "person_id": world.users[A_USERS["participant"]]}
    before = fingerprint.take()
    status, data = call(dino, "POST", f"/trm/entries/{world.b.entry}/copy-crew", body)
    text = json.dumps(data)
    assert status == 403 and "301" not in text, data  # nothing of A's entry, not even its race number
    missing = {**body, "from_entry_id": "00000000-0000-4000-8000-000000000301"}
    status2, data2 = call(dino, "POST", f"/trm/entries/{world.b.entry}/copy-crew", missing)
    assert status2 == 403
    assert text.replace(world.a.entry, "X") == json.dumps(data2).replace(missing["from_entry_id"], "X")
    unchanged(fingerprint, before, "a crew was copied from another organisation's entry")


def test_5b_joining_a_club_needs_the_persons_consent_and_contacts_stay_private_until_then(world, people, fingerprint):
    admin, bora = world.api, people(B_USERS["org-admin"])
    paul_id = world.users[A_USERS["participant"]]
    invite = {"organization_id": world.b.org, "user_id": paul_id, "role": "participant"}
    # the org admin cannot make it active, nor start with it active
    before = fingerprint.take()
    status, data = call(bora, "POST", "/items/organization_users", {**invite, "status": "active"})
    assert status == 403, data
    unchanged(fingerprint, before, "an org admin enrolled someone without consent")
    created = bora.post("/items/organization_users", invite)
    try:
        assert admin.get(f"/items/organization_users/{created['id']}")["status"] == "invited"
        for body in ({"status": "active"}, {"user_id": world.users[A_USERS["viewer"]]}):
            status, data = call(bora, "PATCH", f"/items/organization_users/{created['id']}", body)
            assert status == 403, (body, data)
        # invited: bora sees no contact details, paul's role in B grants him nothing yet
        status, data = call(bora, "GET", f"/users/{paul_id}", fields="email,phone")
        assert status == 403 or not (data.get("email") or data.get("phone")), data
        paul = people(A_USERS["participant"])
        assert [e["race_number"] for e in paul.get("/items/entries", filter={"event_id": {"_eq": world.b.event}})] == []
        # paul sees the invitation, with the club's name, and accepts it
        [mine] = paul.get(
            "/items/organization_users", filter={"organization_id": {"_eq": world.b.org}}, fields="id,status,organization_id.name"
        )
        assert mine["status"] == "invited" and mine["organization_id"]["name"] == "Adriatic Trail Club"
        status, data = call(
            paul, "PATCH", f"/items/organization_users/{created['id']}", {"status": "active", "role": "org-admin"}
        )
        assert status == 403, data  # accepting is all he may do: not choose his role
        paul.patch(f"/items/organization_users/{created['id']}", {"status": "active"})
        assert bora.get(f"/users/{paul_id}", fields="email")["email"] == A_USERS["participant"]
    finally:
        admin.delete(f"/items/organization_users/{created['id']}")


def test_5c_refusals_reveal_nothing_about_what_exists(world, people, fingerprint):
    dino = people(B_USERS["race-director"])
    admin = world.api
    before = fingerprint.take()
    # a filter that validates (start order, geometry) answers an outsider 403, not a 400 that names things
    status, data = call(
        dino, "PATCH", f"/items/stages/{world.a.stage}", {"status": "open", "start_order_strategy_params": {"order": [999]}}
    )
    assert status == 403 and "999" not in json.dumps(data) and "entry" not in json.dumps(data), data
    bad_waypoint = {
        "segment_id": world.a.segment,
        "code": "X",
        "type": "WPV",
        "location": {"type": "Point", "coordinates": [500, 500]},
    }
    # (Directus's own validation of the parent answers 400, naming only the caller's own segments)
    status, data = call(dino, "POST", "/items/waypoints", {**bad_waypoint, "sort_order": 1})
    assert status in (400, 403) and "Prologue" not in json.dumps(data) and "coordinates" not in messages(data), data
    ghost = {**bad_waypoint, "segment_id": GHOST, "sort_order": 1}
    assert masked(call(dino, "POST", "/items/waypoints", ghost)[1]) == masked(data)  # the same for a segment that does not exist
    # deleting a referenced entry: no list of the tables that reference it
    status, data = call(dino, "DELETE", f"/items/entries/{world.a.entry}")
    assert status == 403 and "entry_crew" not in json.dumps(data), data
    # an IMEI of A and an IMEI that exists nowhere: the same words
    imei = admin.get(f"/items/devices/{world.a.device}")["imei"]
    flag = {"from": "2026-06-08T07:00:00Z", "to": "2026-06-08T07:01:00Z", "reason": "x"}
    answers = []
    for probe in (imei, "999999999999999"):
        status, data = call(dino, "POST", "/trm/positions/faulty", {**flag, "imei": probe})
        answers.append((status, json.dumps(data).replace(probe, "IMEI")))
    assert answers[0] == answers[1] and answers[0][0] == 403, answers
    # an item of another organisation and an item that does not exist: the same answer
    for c, rid in (("entries", world.a.entry), ("stages", world.a.stage)):
        got = [call(dino, "PATCH", f"/items/{c}/{i}", {"notes": "x"}) for i in (rid, GHOST)]
        assert masked(got[0]) == masked(got[1]) and got[0][0] == 403, (c, got)
    unchanged(fingerprint, before, "a refused probe changed something")


def test_a_second_world_on_the_same_stack_keeps_every_reference_row_of_the_first(world):
    """Regression (2026-12-06, two test workers): the access matrix's world and this suite's share the seeded
    stack; building one deleted the other's waypoint_radius_defaults reference row, so when this suite's world
    was built first, test_payload_keys PATCHed a row that was gone (403 instead of 400). Whichever is built
    second now shares that row."""
    from tests.integration.access_world import World

    World(world.api, world.url).build()
    gone = [
        f"{name} {c} {rid}: {status}"
        for name, org in (("A", world.a), ("B", world.b))
        for c, rid in org.rows.items()
        if (status := call(world.api, "GET", f"/items/{c}/{rid}")[0]) != 200
    ]
    assert gone == []
    assert "waypoint_radius_defaults" in world.a.rows and "waypoint_radius_defaults" in world.b.rows
