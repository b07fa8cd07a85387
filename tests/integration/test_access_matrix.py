"""Tenant isolation, proven through real HTTP as real users: role × collection × action × own/other/no org.

One stack seeded with Rally Albania (organisation A) and the Adriatic Trail Club (organisation B);
every user of A logs in with a password. Every cell asserts the exact outcome (the row; an empty
list, or 403 when none of the user's policies reads the collection; or a refusal with nothing
written, checked as admin). Then the ways around it: GraphQL,
batch and query-filter writes, `fields=*.*.*`, and the person who is org-admin in A and
participant in B. The matrix is printed (`pytest -s`, and in the report).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.access_world import A_USERS, NO_ORG, PASSWORD, World
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("seeded")]

COURSE = ("stages", "segments", "geofences", "waypoints", "speed_limit_zones", "waypoint_radius_defaults")
PARTS = ("entry_crew", "entry_devices", "entry_penalties", "entry_segment_starts", "entry_crossings", "stage_results")
CATALOGUE = ("organizations", "organization_users", "organization_vehicles", "organization_devices", "vehicles", "devices")
OPERATIONS = ("commands", "command_kinds")
COLLECTIONS = (*CATALOGUE, "events", "classes", "entries", *COURSE, "penalty_formulas", *PARTS, *OPERATIONS)
# Reference data of no organisation: every org role reads all of it (the "other" row too), nobody but administrators writes it.
GLOBAL = ("command_kinds",)
PK = {"command_kinds": "code"}
EVENT_READS = ("organizations", "events", "classes", "entries", *COURSE, "penalty_formulas", *PARTS, "vehicles", "devices")

# What each org role may do in its own organisation (domain.md "Phase 4"), read independently of access_table.py.
SPEC: dict[str, dict[str, str]] = {
    "org-admin": {
        **{c: "crud" for c in COLLECTIONS},
        "organizations": "ru",
        "vehicles": "cru",
        "devices": "cru",
        "commands": "cr",  # the system writes the rest of a command's life
        "command_kinds": "r",
    },
    "race-director": {
        **{c: "r" for c in ("organizations", "events", "classes", *CATALOGUE[1:4])},
        **{c: "crud" for c in ("entries", *COURSE, "penalty_formulas", *PARTS[:-1])},
        "stage_results": "ru",
        "vehicles": "cr",
        "devices": "cr",
        "commands": "cr",
        "command_kinds": "r",
    },
    "timekeeper": {**{c: "r" for c in (*EVENT_READS, *OPERATIONS)}, "entry_segment_starts": "ru"},
    # entry notes only while the event runs: Rally Albania 2026 (June) is not running, so "r" only.
    "marshal": {**{c: "r" for c in EVENT_READS}, "commands": "cr", "command_kinds": "r"},
    # the reference rows of A hang off entry 301, the participant's own entry (its device's command too)
    "participant": {
        c: "r" for c in ("organizations", "events", "classes", "stages", "vehicles", "devices", "entries", *PARTS, *OPERATIONS)
    },
    # the reference stage result is not published: a viewer sees published results only
    "viewer": {c: "r" for c in ("organizations", "events", "classes", "stages", "entries", "entry_crew", "command_kinds")},
}
# Collections a role reads some rows of without the reference row: a read of the reference row is an
# empty list. Any other collection without "r" is one no policy of the user reads at all: Directus
# answers 403 (the org-role policies are linked per user, one per role held: links.ts).
READS_OTHER_ROWS = {"viewer": {"stage_results"}}
# Every account reads its own memberships (invitations included) and the organisations they are of.
MEMBER_READS = {"organization_users", "organizations"}


def reads_some(role: str, c: str) -> bool:
    return "r" in SPEC.get(role, {}).get(c, "") or c in READS_OTHER_ROWS.get(role, set()) | MEMBER_READS


# Catalogue rows that belong to no organisation until registered: a create is not "in" an organisation.
ORGLESS_CREATE = ("vehicles", "devices")

# The field each cell updates (one the role may change when it may update the collection) and a new value.
UPDATE = {
    "organizations": ("name", lambda v: v + " x"),
    "organization_users": ("role", lambda v: "marshal" if v != "marshal" else "viewer"),
    "organization_vehicles": ("registered_at", lambda v: "2025-01-02T03:04:05"),
    "organization_devices": ("registered_at", lambda v: "2025-01-02T03:04:05"),
    "vehicles": ("model", lambda v: v + " x"),
    "devices": ("model", lambda v: v + " x"),
    "events": ("notes", lambda v: (v or "") + " x"),
    "classes": ("description", lambda v: (v or "") + " x"),
    "entries": ("notes", lambda v: (v or "") + " x"),
    "entry_crew": ("role", lambda v: "mechanic" if v != "mechanic" else "navigator"),
    "entry_devices": ("assigned_user_id", None),  # set to the participant (A) / B's pilot, or cleared if it was them
    "entry_penalties": ("note", lambda v: (v or "") + " x"),
    "entry_segment_starts": ("target_at", lambda v: "2026-06-07T09:09:09.000Z"),
    "entry_crossings": ("note", lambda v: (v or "") + " x"),
    "stage_results": ("elapsed_seconds", lambda v: (v or 0) + 1),
    "stages": ("notes", lambda v: (v or "") + " x"),
    "segments": ("name", lambda v: (v or "") + " x"),
    "geofences": ("name", lambda v: v + " x"),
    "waypoints": ("notes", lambda v: (v or "") + " x"),
    "speed_limit_zones": ("name", lambda v: (v or "") + " x"),
    "waypoint_radius_defaults": ("open_radius_m", lambda v: v + 1),
    "penalty_formulas": ("note", lambda v: (v or "") + " x"),
    "commands": ("answer", lambda v: (v or "") + " x"),
    "command_kinds": ("name", lambda v: v + " x"),
}


def call(api: Directus, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
    try:
        return 200, api.request(method, path, body, params=params or None)
    except DirectusError as e:
        return e.status, e.body


def login(url: str, email: str) -> Directus:
    return Directus.login(url, email, PASSWORD)


@pytest.fixture(scope="module")
def world(stack, api) -> World:
    w = World(api, stack.url)
    w.build()
    return w


class Matrix:
    def __init__(self, world: World) -> None:
        self.w = world
        self.cells: list[tuple[str, str, str, str, bool, str]] = []  # role, collection, action, target, allowed, detail

    def row(self, c: str, rid: Any) -> dict | None:  # by primary key, whatever its name
        status, data = call(self.w.api, "GET", f"/items/{c}/{rid}")
        return data if status == 200 else None

    def cleanup(self, c: str, rid: Any) -> None:
        call(self.w.api, "DELETE", f"/items/{c}/{rid}")

    def find(self, c: str, body: dict) -> Any:
        """The id of the row a create made when Directus answered without it (the user may not read it back)."""
        keys = ("plate", "imei", "slug", "user_id", "vehicle_id", "device_id", "race_number", "code", "name", "ts", "sort_order")
        key = next(k for k in (*keys, *body) if k in body and not isinstance(body[k], dict))
        pk = PK.get(c, "id")
        [row] = self.w.api.get(f"/items/{c}", filter=json.dumps({key: {"_eq": body[key]}}), fields=pk)
        return row[pk]

    def count(self, c: str) -> int:
        return int(self.w.api.get(f"/items/{c}", aggregate={"count": "*"})[0]["count"])

    def run(self, role: str, user: Directus, target: str, org, expected: str, c: str) -> None:
        w, admin = self.w, self.w.api
        ref, pk = org.rows[c], PK.get(c, "id")
        # read: the row; an empty list when the user reads other rows of the collection; else 403
        status, data = call(user, "GET", f"/items/{c}", filter=json.dumps({pk: {"_eq": ref}}), fields=pk)
        got = status == 200 and [r[pk] for r in data] == [ref]
        if "r" in expected:
            assert got, (role, c, target, status, data)
        elif reads_some(role, c):
            assert status == 200 and data == [], (role, c, target, status, data)
        else:
            assert status == 403 and "FORBIDDEN" in json.dumps(data), (role, c, target, status, data)
        self.cells.append((role, c, "read", target, got, ""))
        # update: changed, or refused with nothing written
        field, change = UPDATE[c]
        before = self.row(c, ref)
        if change is None:  # a person of the row's organisation; cleared when the row already names them
            person = w.users["paul.pilot@example.com"] if org is w.a else w.users["pero.pilot@example.com"]
            value = person if before[field] != person else None
        else:
            value = change(before[field])
        status, _ = call(user, "PATCH", f"/items/{c}/{ref}", {field: value})
        after = self.row(c, ref)
        if "u" in expected:
            assert status == 200 and after[field] != before[field], (role, c, target, status, before[field], after[field])
            admin.patch(f"/items/{c}/{ref}", {field: before[field]})
        else:
            assert status in (400, 403) and after == before, (role, c, target, status)
        self.cells.append((role, c, "update", target, status == 200, str(status)))
        # create: created, or refused with nothing written
        body = w.payload(c, org)
        n = self.count(c)
        status, data = call(user, "POST", f"/items/{c}", body)
        created = self.count(c) - n
        if status == 200:  # cleaned up first: a wrong outcome must not spoil the next cells
            self.cleanup(c, data[PK.get(c, "id")] if data else self.find(c, body))
        if "c" in expected:
            assert status == 200 and created == 1, (role, c, target, status, data)
        else:
            assert status in (400, 403) and created == 0, (role, c, target, status, data)
        self.cells.append((role, c, "create", target, status == 200, str(status)))
        # delete: gone, or refused with the row still there
        victim = ref if c == "organizations" else admin.post(f"/items/{c}", w.payload(c, org))[PK.get(c, "id")]
        status, _ = call(user, "DELETE", f"/items/{c}/{victim}")
        exists = self.row(c, victim) is not None
        if "d" in expected:
            assert status == 200 and not exists, (role, c, target, status)
        else:
            assert status in (400, 403) and exists, (role, c, target, status)
            if victim != ref:
                self.cleanup(c, victim)
        self.cells.append((role, c, "delete", target, status == 200, str(status)))

    def table(self) -> str:
        allowed = {(r, c, a, t): ok for r, c, a, t, ok, _ in self.cells}
        roles = [*A_USERS, "no org"]
        head = f"{'collection':<26}" + "".join(f"{r:>18}" for r in roles)
        lines = ["own org / other org (c r u d allowed, - refused)", head]
        for c in COLLECTIONS:
            cells = []
            for r in roles:

                def mark(t: str, r: str = r, c: str = c) -> str:
                    return "".join(a[0] if allowed.get((r, c, a, t)) else "-" for a in ("create", "read", "update", "delete"))

                cells.append(f"{mark('own')}/{mark('other')}" if r != "no org" else mark("none"))
            lines.append(f"{c:<26}" + "".join(f"{x:>18}" for x in cells))
        return "\n".join(lines)


def test_the_isolation_matrix(world, evidence):
    m = Matrix(world)
    wrong: list[str] = []
    plan = [(role, email, c, t) for role, email in A_USERS.items() for c in COLLECTIONS for t in ("own", "other")]
    plan += [("no org", NO_ORG, c, "none") for c in COLLECTIONS]
    users: dict[str, Directus] = {}
    for role, email, c, target in plan:
        user = users.get(email) or users.setdefault(email, login(world.url, email))
        own = SPEC.get(role, {}).get(c, "")
        expected = own if target == "own" else ("c" if c in ORGLESS_CREATE and "c" in own else "")
        if c in GLOBAL and target == "other":
            expected = own.replace("c", "")  # the other organisation's reference row is as readable: it is no one's
        try:
            m.run(role, user, target, world.a if target != "other" else world.b, expected, c)
        except AssertionError as e:
            wrong.append(str(e).splitlines()[0][:300])
    evidence(f"{len(m.cells)} cells run, {len(wrong)} not as expected\n" + m.table())
    evidence("\n".join(wrong))
    assert wrong == []
    assert len(m.cells) == len(plan) * 4 == 4 * 13 * len(COLLECTIONS) == 1248


def test_the_person_in_both_organisations_has_each_role_only_where_it_is_held(world):
    cora = login(world.url, "cora.copilot@example.com")  # participant in A (entry 401), org-admin in B

    def race_numbers(event: str) -> set[int]:
        rows = cora.get("/items/entries", fields="race_number", filter=json.dumps({"event_id": {"_eq": event}}), limit=-1)
        return {e["race_number"] for e in rows}

    assert race_numbers(world.a.event) == {401}  # her own entry only
    assert race_numbers(world.b.event) == {7, 8}  # all of them
    status, data = call(cora, "POST", "/items/events", world.payload("events", world.a))
    assert status == 403 and "yours there: participant" in json.dumps(data)
    status, data = call(cora, "POST", "/items/events", world.payload("events", world.b))
    assert status == 200, data
    people = {p.get("email") for p in cora.get("/users", fields="email", limit=-1)}
    assert "bora.admin@example.com" in people and "rita.director@example.com" not in people  # contacts of B only


def test_a_participant_asking_for_another_organisations_entry_gets_nothing(world, evidence):
    paul = login(world.url, "paul.pilot@example.com")
    path = f"/items/entries/{world.b.entry}"
    status, data = call(paul, "GET", path, fields="*,crew.user_id.email")
    asked = f"GET {path}?fields=*,crew.user_id.email as paul.pilot@example.com (participant of A)"
    evidence(f"{asked} -> {status} {json.dumps(data)[:300]}")
    assert status == 403 and "FORBIDDEN" in json.dumps(data)


def test_graphql_batch_and_query_filter_forms_do_not_get_around_it(world):
    rita = login(world.url, "rita.director@example.com")  # race director of A
    b_ids = [world.b.entry]
    gql = rita.post("/graphql", {"query": f'{{ entries(filter: {{id: {{_eq: "{world.b.entry}"}}}}) {{ id }} }}'})
    assert gql == {"entries": []}
    gql = rita.post("/graphql", {"query": "{ organizations { slug members { user_id { email } } } }"})
    assert [o["slug"] for o in gql["organizations"]] == ["msc-albania"]
    assert not [m for o in gql["organizations"] for m in o["members"] if "atc" in json.dumps(m) or "bora" in json.dumps(m)]
    before = world.api.get(f"/items/entries/{world.b.entry}")
    own_before = world.api.get(f"/items/entries/{world.a.entry}")
    status, _ = call(rita, "PATCH", "/items/entries", {"keys": [world.a.entry, *b_ids], "data": {"notes": "batch"}})
    assert status == 403
    assert world.api.get(f"/items/entries/{world.a.entry}") == own_before  # all or nothing: her own entry is unchanged too
    status, data = call(
        rita, "PATCH", "/items/entries", {"query": {"filter": {"event_id": {"_eq": world.b.event}}}, "data": {"notes": "q"}}
    )
    assert status == 403 or (status == 200 and not data)  # the query finds nothing she may update
    status, data = call(rita, "DELETE", "/items/entries", b_ids)
    assert status == 403 and "entry_crew" not in json.dumps(data)  # not even which tables reference it
    status, _ = call(rita, "DELETE", "/items/entries", {"query": {"filter": {"event_id": {"_eq": world.b.event}}}})
    assert world.api.get(f"/items/entries/{world.b.entry}") == before
    gql = call(
        rita,
        "POST",
        "/graphql",
        {"query": f'mutation {{ update_entries_item(id: "{world.b.entry}", data: {{notes: "g"}}) {{ id }} }}'},
    )
    assert gql[0] != 200 or gql[1].get("update_entries_item") is None
    assert world.api.get(f"/items/entries/{world.b.entry}") == before


def test_nested_reads_do_not_leak_the_other_organisation(world):
    b_strings = ["adriatic-trail", "bora.admin", "pero.pilot", "dino.director", world.b.org, world.b.entry, world.b.event]
    for email in A_USERS.values():
        user = login(world.url, email)
        for path in ("/items/organizations", "/items/entries", "/items/events", "/items/entry_crew", "/users"):
            status, data = call(user, "GET", path, fields="*.*.*", limit=-1)
            text = json.dumps(data)
            leaked = [s for s in b_strings if s in text]
            assert status in (200, 403) and not leaked, (email, path, leaked)
    # contacts: only org-admins and race directors see e-mails, and only of their organisation's people
    for email, sees in ((A_USERS["org-admin"], True), (A_USERS["race-director"], True), (A_USERS["participant"], False)):
        people = login(world.url, email).get("/users", fields="email,phone,first_name", limit=-1)
        others = [p for p in people if p.get("email") != email]
        assert others and all((p.get("email") is not None) == sees for p in others), (email, others[:2])


def test_the_data_studio_comes_with_a_staff_org_role_and_profiles_stay_editable_without_it(world):
    """app_access sits on the org-admin, race-director, timekeeper and marshal policies (access_table.STUDIO_ROLES).

    Directus adds its app rules (settings, collections, fields, presets…) to a user with app access:
    a staff member gets them from the linked policy; a participant or viewer works through the API and
    can still read and edit their own profile; a person with a staff role in any organisation has them.
    """
    both = "participant in A, org-admin in B"
    studio = {"org-admin", "race-director", "timekeeper", "marshal", both}
    people = [*A_USERS.items(), ("no org", NO_ORG), (both, "cora.copilot@example.com")]
    seen = {}
    for role, email in people:
        user = login(world.url, email)
        seen[role] = (call(user, "GET", "/settings", fields="project_name")[0], call(user, "GET", "/fields/entries")[0])
        status, me = call(user, "PATCH", "/users/me", {"phone": "+355 69 000 0001"}, fields="phone")
        assert status == 200 and me["phone"] == "+355 69 000 0001", (role, status, me)
    expected = {r: (200, 200) if r in studio else (403, 403) for r, _ in people}
    assert seen == expected


def test_a_race_director_writes_to_every_entry_of_an_event_of_more_than_100_entries(world):
    """Directus lists at most 100 related rows in a dynamic variable: a create validation through
    `$CURRENT_USER.memberships…events.entries.id` refused what hung off the other entries of a
    230-entry event (issue 29's benchmark). A penalty for each of 250 entries, in one batch."""
    admin, rita = world.api, login(world.url, A_USERS["race-director"])
    body = {"event_id": world.a.event, "class_id": world.a.klass, "vehicle_id": world.a.vehicle}
    added = admin.post("/items/entries", [{**body, "race_number": 9000 + i} for i in range(250)])
    try:
        rows = [{"entry_id": e["id"], "type": "speeding", "seconds": 60, "note": "over 100"} for e in added]
        status, data = call(rita, "POST", "/items/entry_penalties", rows)
        assert status == 200 and len(data) == 250, (status, json.dumps(data)[:300])
        admin.delete("/items/entry_penalties", [p["id"] for p in data])
    finally:
        admin.delete("/items/entries", [e["id"] for e in added])


# The entry timeline and the course-edit preview (issue 29), by org role: own organisation / the other.
# Timeline: the organisation's staff and the entry's crew (the reference entry 301 is the participant's);
# preview: those who may update the waypoint (org-admin, race-director), Directus's own check.
HISTORY_SPEC = {
    "org-admin": ("tp", ""),
    "race-director": ("tp", ""),
    "timekeeper": ("t", ""),
    "marshal": ("t", ""),
    "participant": ("t", ""),
    "viewer": ("", ""),
    "no org": ("", ""),
}


def test_the_timeline_and_the_preview_by_org_role(world, evidence):
    """Each cell is 200 with the answer, or 403 FORBIDDEN; a timeline names people, never their e-mail."""
    people = [*A_USERS.items(), ("no org", NO_ORG)]
    seen: dict[str, tuple[str, str]] = {}
    for role, email in people:
        user = login(world.url, email)
        marks = []
        for org in (world.a, world.b):
            timeline = call(user, "GET", f"/trm/entries/{org.entry}/timeline", limit=500)
            body = {"collection": "waypoints", "id": org.waypoint, "changes": {"open_radius_m": 900}}
            preview = call(user, "POST", "/trm/course/preview", body)
            for status, data in (timeline, preview):
                assert status in (200, 403) and (status == 200 or "FORBIDDEN" in json.dumps(data)), (role, status, data)
            if timeline[0] == 200:  # people by name only: no e-mail, whoever reads it
                assert "@" not in json.dumps(timeline[1]), (role, "an e-mail in the timeline")
            marks.append(("t" if timeline[0] == 200 else "") + ("p" if preview[0] == 200 else ""))
        seen[role] = (marks[0], marks[1])
    evidence("timeline (t) and preview (p) of an entry and a waypoint, own org / other org:")
    evidence("\n".join(f"  {role:<14} {own or '-':>3} / {other or '-'}" for role, (own, other) in seen.items()))
    assert seen == HISTORY_SPEC
