"""The org role table (domain.md "Phase 4") as Directus policies: the source of snapshots/access.yaml.

Every non-admin account has the Directus role `Member`, which holds the `member` policy (own
profile and memberships). The six org-role policies are linked to each user directly, one per role
the user holds in an *active* membership of `organization_users` (the database keeps the links in
step: db-init/post/107; they are derived data, not part of the file). A policy's rows are those of
organisations where the current user has *that* org role, accepted (a `$CURRENT_USER` filter through
`organizations.members`), so one person can be org-admin of one club and participant in another.
Policies add up (Directus 11 unions them), field lists included, per row. Linking only the policies
a user holds is a matter of speed: Directus compiles every linked policy's filters into each query.

How rows belong to organisations (`ORG_PATH`) is read from the table the trm-integrity hook uses
too (`extensions/trm-integrity/src/org-scope.json`). Writes: updates never include the field that
ties a row to its parent (an entry cannot be moved to another event). Directus checks the row
filter of reads, updates and deletes but not of creates, and a permission's validation can only
read the user's memberships, not their role in each, and lists at most 100 related rows (an
event's 230 entries would not fit): so the hook (trm-integrity access.ts) decides every non-admin
create from the same table — an accepted role with a create permission in the organisation of the
row's real parent — and only a create directly under an organisation also carries a validation
(`organization_id` among `$CURRENT_USER.memberships.organization_id`). Memberships need the person's consent: an org
admin's new membership starts `invited`, and only the person accepts it (docs/decisions/0006-membership-needs-consent.md).
`python -m trm_directus access-snapshot --from-table` writes the file; a unit test keeps them equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..paths import repo_root
from . import artifact_file as document
from . import registry
from .access import ORG_ROLES

ME = "$CURRENT_USER"
C, R, U, D = "create", "read", "update", "delete"
CRUD = (C, R, U, D)
MEMBER_ROLE = "Member"
INVITED, ACTIVE = "invited", "active"  # organization_users.status

# How each collection's rows belong to an organisation: one table shared with the trm-integrity hook,
# which takes the organisation of a new row from the same parent (extensions/trm-integrity/src/org-scope.json).
SCOPE_FILE = repo_root() / "extensions" / "trm-integrity" / "src" / "org-scope.json"
_SCOPE = json.loads(SCOPE_FILE.read_text())
# collection -> m2o path to organizations (vehicles, devices and users: through their registrations).
ORG_PATH: dict[str, tuple[str, ...]] = {c: tuple(path) for c, path in _SCOPE["paths"].items()}
BY_REGISTRATION = tuple(_SCOPE["registered"])
# collection -> (field, registered collection): rows of the organisations that hold the referenced item.
VIA: dict[str, tuple[str, str]] = {c: (f, r) for c, (f, r) in _SCOPE["via"].items()}
GLOBAL = tuple(_SCOPE["global"])  # reference data: every org role reads it, administrators write it
COURSE = ("stages", "segments", "geofences", "waypoints", "speed_limit_zones", "waypoint_radius_defaults")
ENTRY_PARTS = ("entry_crew", "entry_devices", "entry_penalties", "entry_segment_starts", "entry_crossings", "stage_results")
NAMES = ["id", "first_name", "last_name"]
CONTACT = [*NAMES, "email", "phone"]
PROFILE = ["first_name", "last_name", "phone", "birth_date", "nationality", "password", "language"]


# One-to-many steps are written without `_some`: Directus 11.17 refuses `_some` below the top level,
# and at the top level its permission "cases" compile to `CASE WHEN 1` (HTTP 500 on PostgreSQL);
# a one-to-many step without an operator means "some row matches", in one subquery.
def member(role: str) -> dict:
    """Organisations where the current user holds `role` in an accepted (active) membership."""
    return {"members": {"user_id": {"_eq": ME}, "role": {"_eq": role}, "status": {"_eq": ACTIVE}}}


def in_org(collection: str, role: str) -> dict:
    """Rows of `collection` in organisations where the current user has `role`."""
    if collection in BY_REGISTRATION:
        return {"registrations": {"organization_id": member(role)}}
    if collection in VIA:
        field, registered = VIA[collection]
        return {field: in_org(registered, role)}
    if collection == "directus_users":  # people whose own membership there is accepted: no contacts before consent
        return {"memberships": {"status": {"_eq": ACTIVE}, "organization_id": member(role)}}
    f: dict = member(role)
    for step in reversed(ORG_PATH[collection]):
        f = {step: f}
    return f


def own_entry(path: tuple[str, ...]) -> dict:
    f: dict = {"crew": {"user_id": {"_eq": ME}}}
    for step in reversed(path):
        f = {step: f}
    return f


def _and(*filters: dict) -> dict:
    return {"_and": list(filters)} if len(filters) > 1 else filters[0]


def _columns(schema: dict) -> dict[str, list[str]]:
    cols: dict[str, list[str]] = {}
    for f in schema["fields"]:
        if f.get("type") != "alias" and f["field"] != "id":
            cols.setdefault(f["collection"], []).append(f["field"])
    return cols


class Table:
    """Permissions of one policy per org role, built from the rules below."""

    def __init__(self, schema: dict) -> None:
        self.cols = _columns(schema)
        self.items: list[dict[str, Any]] = []

    def add(
        self, policy: str, collection: str, actions: tuple[str, ...], *, fields=None, where=None, org=True, presets=None
    ) -> None:
        """`org=False`: `where` alone decides the rows (it must tie them to the current user)."""
        for action in actions:
            row = in_org(collection, policy) if action != C and org else None
            if where is not None and action != C:
                row = _and(row, where) if row else where
            chosen = fields or ["*"]
            validation = None
            path = ORG_PATH.get(collection, ())
            if action in (C, U) and path:
                parent = path[0]
                if action == U and chosen == ["*"]:
                    chosen = [c for c in self.cols[collection] if c != parent]
                if action == C and parent == "organization_id":
                    # Only one level down: Directus expands a dynamic variable's one-to-many lists to
                    # QUERY_LIMIT_DEFAULT (100) items, so `…events.entries.id` held 100 of an event's 230
                    # entries and refused the rest. Deeper parents are checked by the hook (access.ts).
                    validation = {parent: {"_in": f"{ME}.memberships.organization_id"}}
            self.items.append(
                {
                    "policy": policy,
                    "collection": collection,
                    "action": action,
                    "fields": chosen,
                    "permissions": row,
                    "validation": validation,
                    "presets": presets if action == C else None,
                }
            )


def permissions(schema: dict) -> list[dict[str, Any]]:
    t = Table(schema)
    scoped = [c for c in ORG_PATH if c != "organizations"]
    # org-admin: everything of its organisations; organisations themselves only read and renamed.
    t.add("org-admin", "organizations", (R,))
    t.add("org-admin", "organizations", (U,), fields=["name", "slug"])
    for c in scoped:
        if c != "organization_users":
            t.add("org-admin", c, CRUD)
    # Membership needs the person's consent: an org admin invites (Directus sets status `invited`, a
    # field they may not send), may change the role or end it, never re-point it at another person.
    t.add("org-admin", "organization_users", (R, D))
    t.add("org-admin", "organization_users", (C,), fields=["organization_id", "user_id", "role"], presets={"status": INVITED})
    t.add("org-admin", "organization_users", (U,), fields=["role"])
    for c in BY_REGISTRATION:
        t.add("org-admin", c, (C, R, U))
    t.add("org-admin", "directus_users", (R,), fields=CONTACT)
    # race-director: entries, course, penalties and results of its organisations' events.
    for c in ("organizations", "events", "classes", "organization_users", "organization_vehicles", "organization_devices"):
        t.add("race-director", c, (R,))
    for c in ("entries", *COURSE, "penalty_formulas", *ENTRY_PARTS[:-1]):
        t.add("race-director", c, CRUD)
    t.add("race-director", "stage_results", (R,))
    # publishing is the stage's status (stages: crud); a provisional time may be corrected
    t.add("race-director", "stage_results", (U,), fields=["elapsed_seconds", "status"])
    for c in BY_REGISTRATION:
        t.add("race-director", c, (C, R))
    t.add("race-director", "directus_users", (R,), fields=CONTACT)
    # timekeeper: reads the event; changes only the target start times.
    readers = ("organizations", "events", "classes", "entries", *COURSE, "penalty_formulas", *ENTRY_PARTS, *BY_REGISTRATION)
    for c in readers:
        t.add("timekeeper", c, (R,))
    t.add("timekeeper", "entry_segment_starts", (U,), fields=["target_at"])
    t.add("timekeeper", "directus_users", (R,), fields=NAMES)
    # marshal: reads the event; writes entry notes only while the event runs.
    for c in readers:
        t.add("marshal", c, (R,))
    running = {"event_id": {"starts_at": {"_lte": "$NOW"}, "ends_at": {"_gte": "$NOW"}}}
    t.add("marshal", "entries", (U,), fields=["notes"], where=running)
    t.add("marshal", "directus_users", (R,), fields=NAMES)
    # participant: its organisations' events and classes; its own entries and what hangs off them.
    for c in ("organizations", "events", "classes", "stages", "vehicles"):
        t.add("participant", c, (R,))
    # Their own entries are those whose crew names them: the crew row is the tie to the organisation
    # (its staff put them there), so no second test of the participant role in that organisation.
    # That test cost a join chain per collection read: a participant's entry with crew and devices
    # took 2.5-3x the administrator's time with it, 1.4-1.6x without (docs/benchmarks/2026-11-28.md).
    t.add("participant", "entries", (R,), where=own_entry(()), org=False)
    for c in ENTRY_PARTS:
        t.add("participant", c, (R,), where=own_entry(("entry_id",)), org=False)
    t.add("participant", "devices", (R,), where={"assignments": own_entry(("entry_id",))}, org=False)
    t.add("participant", "directus_users", (R,), fields=NAMES)
    # viewer: published data only.
    for c in ("organizations", "events", "classes", "stages"):
        t.add("viewer", c, (R,))
    t.add("viewer", "entries", (R,), fields=["id", "event_id", "class_id", "race_number", "status"])
    t.add("viewer", "entry_crew", (R,), fields=["id", "entry_id", "user_id", "role"])
    t.add("viewer", "stage_results", (R,), where={"published_at": {"_nnull": True}})
    t.add("viewer", "directus_users", (R,), fields=NAMES)
    # device commands (issue 28): sent by marshals, race directors and org admins of an organisation
    # holding the device; everything after the create is the system's. Participants read the commands
    # of their own entry's devices. Kinds are reference data every org role reads.
    for role in ("org-admin", "race-director", "marshal"):
        t.add(role, "commands", (R,))
        # no validation on the device: a club holds more than the 100 devices Directus would list (access.ts checks it)
        t.items.append(_plain(role, "commands", C, ["device_id", "kind", "parameters"], None))
    t.add("timekeeper", "commands", (R,))
    t.add("participant", "commands", (R,), where={"device_id": {"assignments": own_entry(("entry_id",))}}, org=False)
    for role in ORG_ROLES:
        for c in GLOBAL:
            t.add(role, c, (R,), org=False)
    # member: every account, its own profile.
    mine = {"id": {"_eq": ME}}
    t.items.append(_plain("member", "directus_users", R, ["*"], mine))
    t.items.append(_plain("member", "directus_users", U, PROFILE, mine))
    # ... and its memberships: sees its invitations (with the organisation's name), accepts one, leaves.
    own = {"user_id": {"_eq": ME}}
    t.items.append(_plain("member", "organization_users", R, ["*"], own))
    t.items.append(_plain("member", "organizations", R, ["id", "name", "slug"], {"members": own}))
    accept = _plain("member", "organization_users", U, ["status"], {**own, "status": {"_eq": INVITED}})
    t.items.append({**accept, "validation": {"status": {"_eq": ACTIVE}}})
    t.items.append(_plain("member", "organization_users", D, ["*"], own))
    return t.items


def _plain(policy: str, collection: str, action: str, fields: list[str], row: dict | None) -> dict[str, Any]:
    return {
        "policy": policy,
        "collection": collection,
        "action": action,
        "fields": fields,
        "permissions": row,
        "validation": None,
        "presets": None,
    }


# What Directus's bootstrap creates (utils/create-admin, the 20240806A migration): kept as is.
BOOTSTRAP_ROLES = [{"name": "Administrator", "icon": "verified", "description": "$t:admin_description"}]
BOOTSTRAP_POLICIES = [
    {
        "name": "Administrator",
        "icon": "verified",
        "description": "$t:admin_description",
        "admin_access": True,
        "app_access": True,
    },
    {"name": "$t:public_label", "icon": "public", "description": "$t:public_description"},
]
BOOTSTRAP_ACCESS = [
    {"policy": "Administrator", "role": "Administrator"},
    {"policy": "$t:public_label", "sort": 1},
]

# The org roles that work in the Data Studio (app_access). Participants and viewers use the API
# (TRM's own front-ends): without app access Directus does not add its 20 app rules on system
# collections to their policies, rules it re-parses for every collection of every read.
STUDIO_ROLES = ("org-admin", "race-director", "timekeeper", "marshal")

DESCRIPTIONS = {
    "member": "Every account: read and edit its own profile, see its memberships and accept an invitation (API; the "
    "Data Studio comes with a staff org role).",
    "org-admin": "Everything inside the organisations where the user is org-admin (organization_users.role).",
    "race-director": "Entries, course, penalties and results of the events of the user's race-director organisations.",
    "timekeeper": "Reads the events of its organisations; edits entry_segment_starts.target_at only.",
    "marshal": "Reads the events of its organisations; writes entry notes while the event runs.",
    "participant": "Its organisations' events; the entries whose crew names it, with crew, devices, penalties and results.",
    "viewer": "Read-only: its organisations' events, classes, start lists and published results.",
}


def build(schema_path: Path, version: str) -> document.Document:
    schema = yaml.safe_load(schema_path.read_text())
    doc = document.Document("access", registry.kinds("access"), version)
    doc.items["roles"] = [
        *BOOTSTRAP_ROLES,
        {"name": MEMBER_ROLE, "icon": "group", "description": "Every non-admin account; org roles come from organization_users."},
    ]
    doc.items["policies"] = [
        *BOOTSTRAP_POLICIES,
        *({"name": n, "icon": "badge", "description": d, "app_access": n in STUDIO_ROLES} for n, d in DESCRIPTIONS.items()),
    ]
    doc.items["access"] = [*BOOTSTRAP_ACCESS, {"policy": "member", "role": MEMBER_ROLE}]
    doc.items["permissions"] = permissions(schema)
    for kind in doc.kinds:
        doc.items[kind.section] = [kind.normalize(i) for i in doc.items[kind.section]]
    return doc
