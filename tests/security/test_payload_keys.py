"""Keys that are not fields are refused on every collection, for creates and updates, by any caller.

Directus drops a payload key that is not a field after the filters have run (a `fields: *`
permission accepts it silently), so a hook could act on a key the collection does not have: an extra
`organization_id` once chose the organisation of a new stage (issue 21). Now every such key is a
400 that names it, and nothing is written.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import A_USERS, Fingerprint, call, collections

pytestmark = [pytest.mark.integration, pytest.mark.directus]

PARENT_KEYS = ("organization_id", "event_id", "entry_id", "stage_id", "segment_id")
# What an org admin may not do at all (snapshots/access.yaml): a key is then refused by the permission first.
ORG_ADMIN_MAY_NOT = {"POST": ("organizations", "command_kinds"), "PATCH": ("command_kinds", "commands")}


def test_unknown_and_extra_keys_are_refused_on_every_collection(world, people, fingerprint, evidence):
    schema_fields = {c: {f["field"] for f in world.api.get(f"/fields/{c}", fields="field")} for c in collections()}
    ada = people(A_USERS["org-admin"])
    bodies = {c: world.payload(c, world.a) for c in collections()}  # may create helper rows: before the fingerprint
    cases, wrong = 0, []
    before = fingerprint.take()
    for c in collections():
        extra = next(k for k in PARENT_KEYS if k not in schema_fields[c])  # a parent key of other collections
        body = bodies[c]
        ref = world.a.rows[c]
        for who, client in (("administrator", world.api), ("org-admin of A", ada)):
            for key in (extra, "x_not_a_field"):
                for method, path, payload in (
                    ("POST", f"/items/{c}", {**body, key: world.b.org}),
                    ("PATCH", f"/items/{c}/{ref}", {key: world.b.org}),
                ):
                    cases += 1
                    status, data = call(client, method, path, payload)
                    text = json.dumps(data)
                    ok = status == 400 and f'{c} has no field \\"{key}\\"' in text
                    if who != "administrator" and c in ORG_ADMIN_MAY_NOT.get(method, ()):
                        ok = status == 403  # no such permission at all: the permission comes first
                    changed = Fingerprint.changed(before, fingerprint.take())
                    if not ok or changed:
                        wrong.append(f"{c} {method} {key} as {who}: {status} {text[:200]} changed={changed[:2]}")
                        before = fingerprint.take()
    evidence(f"{len(collections())} collections, {cases} unknown-key cases")
    evidence("\n".join(wrong))
    assert wrong == []
