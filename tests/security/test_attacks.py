"""Every custom hook and endpoint, attacked: from outside, from every org role of the other club, and
from the lower roles of the same club, in every form a write can take.

Each attack is a request one of our extensions acts on (a filter that validates, names things or
writes; an endpoint). Callers: anonymous; each org role of B (and cora, org-admin of B and a
participant in A) against A's rows; each org role of A that lacks the right. Forms: a single item,
a batch by keys, a batch of items, a query, GraphQL (creates: single, batch, GraphQL; endpoints:
their request). Every case asserts
- the refusal: 403 FORBIDDEN, or Directus's own 400 FAILED_VALIDATION of a create's parent (it names
  the caller's own parents only), an error or no data from GraphQL, or, for a query, the empty
  answer of a query that matches nothing;
- that nothing changed anywhere (Fingerprint: every collection, the policy links, users, activity,
  revisions, positions, recompute requests, the Redis stream);
- for an outsider (anonymous, B's people), that the answer is the same, ids aside, when A's rows
  are replaced by ids that exist nowhere: a refusal tells nothing about what exists.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.access_world import World
from tests.integration.graph import point, square
from tests.security.conftest import A_USERS, B_USERS, CORA, GHOST, Fingerprint, People, call, masked

pytestmark = [pytest.mark.integration, pytest.mark.directus]

STAFF = frozenset({"org-admin", "race-director"})
PK = {"command_kinds": "code"}  # collections whose primary key is not `id`
GLOBAL = ("command_kinds",)


@dataclass(frozen=True)
class Attack:
    name: str  # the hook or endpoint it reaches, and what it tries
    kind: str  # update | create | delete | endpoint
    collection: str  # or the endpoint's path
    payload: Callable[[World], Any]
    target: Callable[[World], str] | None = None  # A's row (update, delete)
    allowed: frozenset[str] = STAFF  # A's org roles that may do it (not attackers)
    method: str = "POST"  # an endpoint's


ATTACKS = [
    Attack(
        "stage opening (trm-operations stages filter writes starts)",
        "update",
        "stages",
        lambda w: {
            "status": "open",
            "start_order_strategy": "manual",
            "starts_at": "2000-01-01T00:00:00Z",
            "start_interval_seconds": 0,
        },
        lambda w: w.a.stage,
    ),
    Attack(
        "stage created open (input-stage rule)",
        "create",
        "stages",
        lambda w: {
            "event_id": w.a.event,
            "name": "atk",
            "sort_order": 991,
            "status": "open",
            "start_order_strategy": "inverse_of_overall",
        },
    ),
    Attack(
        "stage publishing (timing: proposed penalties, official results)",
        "update",
        "stages",
        lambda w: {"status": "official"},
        lambda w: w.a.stage,
    ),
    Attack(
        "course rule: waypoint geometry and radii; a course-edit recompute request (action)",
        "update",
        "waypoints",
        lambda w: {"location": point(20.5, 42.0), "validation_radius_m": 5000},
        lambda w: w.a.waypoint,
    ),
    Attack(
        "course rule: segment geofences of another event",
        "create",
        "segments",
        lambda w: {"stage_id": w.a.stage, "sort_order": 991, "type": "liaison", "entry_geofence_id": w.b.rows["geofences"]},
    ),
    Attack(
        "course rule: speed zone",
        "create",
        "speed_limit_zones",
        lambda w: {"segment_id": w.a.segment, "name": "atk", "speed_limit_kmh": 0, "geometry": square()},
    ),
    Attack(
        "discipline: crew role of another discipline",
        "create",
        "entry_crew",
        lambda w: {"entry_id": w.a.entry, "user_id": w.users[B_USERS["viewer"]], "role": "hiker"},
    ),
    Attack(
        "discipline: an event's discipline",
        "update",
        "events",
        lambda w: {"discipline": "trail-run"},
        lambda w: w.a.event,
        frozenset({"org-admin"}),
    ),
    Attack(
        "event dates",
        "update",
        "events",
        lambda w: {"ends_at": "2000-01-01T00:00:00Z"},
        lambda w: w.a.event,
        frozenset({"org-admin"}),
    ),
    Attack("entry class of another event", "update", "entries", lambda w: {"class_id": w.b.klass}, lambda w: w.a.entry),
    Attack(
        "penalty review",
        "update",
        "entry_penalties",
        lambda w: {"status": "waived", "note": "atk"},
        lambda w: w.a.rows["entry_penalties"],
    ),
    Attack(
        "penalty formula target",
        "create",
        "penalty_formulas",
        lambda w: {
            "event_id": w.a.event,
            "type": "missed_waypoint",
            "belongs_to_type": "waypoint",
            "belongs_to_id": w.b.waypoint,
            "penalty_seconds": 1,
        },
    ),
    Attack(
        "closing times: a start moved to another segment",
        "update",
        "entry_segment_starts",
        lambda w: {"segment_id": w.a.segment2},
        lambda w: w.a.rows["entry_segment_starts"],
    ),
    Attack(
        "closing times: a start deleted",
        "delete",
        "entry_segment_starts",
        lambda w: None,
        lambda w: w.a.rows["entry_segment_starts"],
    ),
    Attack(
        "timing: crossing of another event's waypoint",
        "create",
        "entry_crossings",
        lambda w: {"entry_id": w.a.entry, "waypoint_id": w.b.waypoint, "ts": "2026-06-08T07:00:00Z"},
    ),
    Attack(
        "membership: role raised (policy links)",
        "update",
        "organization_users",
        lambda w: {"role": "org-admin"},
        lambda w: w.a.rows["organization_users"],
        frozenset({"org-admin"}),
    ),
    Attack(
        "membership: joining (policy links)",
        "create",
        "organization_users",
        lambda w: {"organization_id": w.a.org, "user_id": w.users[B_USERS["viewer"]], "role": "org-admin"},
        allowed=frozenset({"org-admin"}),
    ),
    Attack(
        "membership: removed (policy links)",
        "delete",
        "organization_users",
        lambda w: None,
        lambda w: w.a.rows["organization_users"],
        frozenset({"org-admin"}),
    ),
    Attack(
        "registration of another club's device",
        "create",
        "organization_devices",
        lambda w: {"organization_id": w.a.org, "device_id": w.b.device},
        allowed=frozenset(),
    ),
    Attack(
        "assignment of another club's device",
        "create",
        "entry_devices",
        lambda w: {"entry_id": w.a.entry, "device_id": w.b.device, "purpose": "backup"},
        allowed=frozenset(),
    ),
    Attack(
        "delete of a referenced entry (names the referencing tables)", "delete", "entries", lambda w: None, lambda w: w.a.entry
    ),
    Attack(
        "device command to another club's tracker (routed to its gateway)",
        "create",
        "commands",
        lambda w: {"device_id": w.a.device, "kind": "getgps"},
        allowed=frozenset({"org-admin", "race-director", "marshal"}),
    ),
    Attack(
        "command kind edited (what every device command may carry)",
        "update",
        "command_kinds",
        lambda w: {"timeout_seconds": 5, "parameters_schema": {"type": "object"}},
        lambda w: "getgps",
        allowed=frozenset(),
    ),
    Attack(
        "endpoint: faulty flag during the rally",
        "endpoint",
        "/trm/positions/faulty",
        lambda w: {
            "imei": w.api.get(f"/items/devices/{w.a.device}")["imei"],
            "from": "2026-06-08T07:00:00Z",
            "to": "2026-06-08T07:01:00Z",
            "reason": "atk",
        },
        allowed=frozenset({"org-admin", "race-director", "marshal"}),
    ),
    Attack(
        "endpoint: resend pending requests (administrators)",
        "endpoint",
        "/trm/positions/faulty/resend",
        lambda w: {},
        allowed=frozenset(),
    ),
    Attack(
        "endpoint: copy crew into A's entry",
        "endpoint",
        "/trm/entries/{entry}/copy-crew",
        lambda w: {"from_entry_id": w.b.entry, "person_id": w.users[B_USERS["participant"]]},
    ),
    Attack(
        "endpoint: A's entry timeline (activity and revisions, whatever the source collection's rules)",
        "endpoint",
        "/trm/entries/{entry}/timeline",
        lambda w: None,
        allowed=frozenset({"org-admin", "race-director", "timekeeper", "marshal", "participant"}),  # the participant: its crew
        method="GET",
    ),
    Attack(
        "endpoint: preview of a move of A's waypoint (Directus's update, rolled back)",
        "endpoint",
        "/trm/course/preview",
        lambda w: {"collection": "waypoints", "id": w.a.waypoint, "changes": {"location": point(20.5, 42.0)}},
    ),
]


def a_ids(w: World) -> set[str]:
    o = w.a
    ids = {o.org, o.event, o.klass, o.entry, o.vehicle, o.device, o.stage, o.stage2, o.segment, o.segment2, o.waypoint}
    # reference data (command kinds) is everyone's to read: no secret to compare a refusal against
    return ids | {v for c, v in o.rows.items() if c not in GLOBAL}


def ghostly(value: Any, ids: set[str], imei: str) -> Any:
    """The same request about rows that exist nowhere: A's ids (and A's IMEI) replaced."""
    text = json.dumps(value)
    for i in ids:
        text = text.replace(i, GHOST)
    return json.loads(text.replace(imei, "999999999999999"))


def callers(attack: Attack) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [("anonymous", None)]
    out += [(f"B {role}", email) for role, email in B_USERS.items()]
    out.append(("cora: B org-admin, A participant", CORA))
    out += [(f"A {role}", email) for role, email in A_USERS.items() if role not in attack.allowed]
    return out


def gql(collection: str, kind: str, target: str | None, payload: Any) -> dict:
    if kind == "update":
        q = f"mutation ($id: ID!, $data: update_{collection}_input!) "
        q += f"{{ r: update_{collection}_item(id: $id, data: $data) {{ id }} }}"
        return {"query": q, "variables": {"id": target, "data": payload}}
    if kind == "create":
        q = f"mutation ($data: create_{collection}_input!) {{ r: create_{collection}_item(data: $data) {{ id }} }}"
        return {"query": q, "variables": {"data": payload}}
    q = f"mutation ($id: ID!) {{ r: delete_{collection}_item(id: $id) {{ id }} }}"
    return {"query": q, "variables": {"id": target}}


def forms(attack: Attack, w: World) -> list[tuple[str, str, str, Any]]:
    """(form, method, path, body) of every way to send the attack."""
    c, payload = attack.collection, attack.payload(w)
    target = attack.target(w) if attack.target else None
    by_id = {"query": {"filter": {PK.get(c, "id"): {"_eq": target}}}}
    if attack.kind == "update":
        return [
            ("single", "PATCH", f"/items/{c}/{target}", payload),
            ("batch by keys", "PATCH", f"/items/{c}", {"keys": [target], "data": payload}),
            ("batch of items", "PATCH", f"/items/{c}", [{PK.get(c, "id"): target, **payload}]),
            ("by query", "PATCH", f"/items/{c}", {**by_id, "data": payload}),
            ("GraphQL", "POST", "/graphql", gql(c, "update", target, payload)),
        ]
    if attack.kind == "create":
        return [
            ("single", "POST", f"/items/{c}", payload),
            ("batch", "POST", f"/items/{c}", [payload]),
            ("GraphQL", "POST", "/graphql", gql(c, "create", None, payload)),
        ]
    if attack.kind == "delete":
        return [
            ("single", "DELETE", f"/items/{c}/{target}", None),
            ("batch by keys", "DELETE", f"/items/{c}", [target]),
            ("by query", "DELETE", f"/items/{c}", by_id),
            ("GraphQL", "POST", "/graphql", gql(c, "delete", target, None)),
        ]
    return [("request", attack.method, c.format(entry=w.a.entry), payload)]


def refused(form: str, status: int, data: Any) -> bool:
    if form == "GraphQL":
        return status != 200 or not data or data.get("r") is None
    if form == "by query" and status in (200, 204) and not data:
        return True  # the query reached none of A's rows: the answer of a query that matches nothing
    codes = {e.get("extensions", {}).get("code") for e in (data or {}).get("errors", [])} if isinstance(data, dict) else set()
    return (status == 403 and codes == {"FORBIDDEN"}) or (status == 400 and codes == {"FAILED_VALIDATION"})


def test_every_hook_and_endpoint_refuses_outsiders_and_lower_roles_and_changes_nothing(
    world, people: People, fingerprint, evidence
):
    cases, compared, wrong, seen = 0, 0, [], Counter()
    ids, imei = a_ids(world), world.api.get(f"/items/devices/{world.a.device}")["imei"]
    before = fingerprint.take()
    for attack in ATTACKS:
        for who, email in callers(attack):
            client = people(email)
            outsider = who == "anonymous" or who.startswith("B ")
            for form, method, path, body in forms(attack, world):
                cases += 1
                status, data = call(client, method, path, body)
                after = fingerprint.take()
                changed = Fingerprint.changed(before, after)
                seen[(form, status)] += 1
                if not refused(form, status, data) or changed:
                    wrong.append(f"{attack.name} | {who} | {form}: {status} {json.dumps(data)[:160]} changed={changed[:3]}")
                    before = after
                if outsider:
                    compared += 1
                    ghost = call(client, method, ghostly(path, ids, imei), ghostly(body, ids, imei))
                    same = masked((status, data)).replace(imei, "<imei>") == masked(ghost).replace("999999999999999", "<imei>")
                    if not same:
                        wrong.append(
                            f"{attack.name} | {who} | {form}: A's rows {status} vs none {ghost[0]}: {masked(ghost)[:160]}"
                        )
    evidence(
        f"{len(ATTACKS)} attacks, {cases} cases ({compared} also sent about rows that do not exist); answers: "
        + ", ".join(f"{f} {s}: {n}" for (f, s), n in sorted(seen.items()))
    )
    evidence("\n".join(wrong))
    assert wrong == []
    assert cases >= 600
