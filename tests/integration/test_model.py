"""The Phase 1 data model on a stack booted from the committed artifacts, exercised through Directus's REST API."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import REPO, query
from tests.integration.graph import count, refused, uniq
from trm_directus.dbinit.discovery import discover
from trm_directus.model import catalogue, registration

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

COLLECTIONS = [c.name for d in (catalogue, registration) for c in d.COLLECTIONS]
# --- the collections ---------------------------------------------------------------------------


def test_the_twelve_collections_have_notes_icons_and_templates(api):
    collections = {c["collection"]: c for c in api.get("/collections", limit=-1)}
    for name in COLLECTIONS:
        meta = collections[name]["meta"]
        assert meta["icon"] and meta["note"] and meta["display_template"], name
        assert meta["group"] in ("catalogue", "registration")
    user_fields = {f["field"]: f for f in api.get("/fields/directus_users")}
    assert {"phone", "birth_date", "nationality"} <= user_fields.keys()
    assert collections["entries"]["meta"]["archive_field"] == "status"
    assert collections["entries"]["meta"]["archive_value"] == "withdrawn"
    assert collections["classes"]["meta"]["sort_field"] == "sort_order"


def test_every_field_explains_itself_and_enums_are_dropdowns(api):
    for name in COLLECTIONS:
        for f in api.get(f"/fields/{name}"):
            meta = f["meta"]
            if f["field"] == "id":
                continue
            assert meta["note"] or meta["special"] in (["date-created"], ["date-updated"]), f"{name}.{f['field']} has no note"
            if meta["interface"] == "select-dropdown":
                assert meta["options"]["choices"], f"{name}.{f['field']}"
                assert meta["validation"], f"{name}.{f['field']} has choices but no validation"
    roles = next(f for f in api.get("/fields/organization_users") if f["field"] == "role")
    assert [c["value"] for c in roles["meta"]["options"]["choices"]] == catalogue.ORG_ROLES


def test_junctions_are_presented_as_lists_on_their_parents(api):
    org_fields = {f["field"]: f for f in api.get("/fields/organizations")}
    for alias in ("members", "vehicles", "devices", "events"):
        assert org_fields[alias]["type"] == "alias" and org_fields[alias]["meta"]["interface"] == "list-o2m"
    entry_fields = {f["field"]: f for f in api.get("/fields/entries")}
    assert entry_fields["crew"]["meta"]["special"] == ["o2m"]


def test_every_collection_supports_create_read_update_delete(api, g, stack):
    org, vehicle, device, user = g.org(), g.vehicle(), g.device(), g.user()
    event = g.event(org)
    klass = g.klass(event)
    entry = g.entry(event, klass, vehicle_id=vehicle["id"])
    rows = {
        "organizations": (org, {"name": "Renamed Org"}),
        "vehicles": (vehicle, {"plate": "AA-002-AA"}),
        "devices": (device, {"serial_number": "SN-1"}),
        "events": (event, {"notes": "dry run"}),
        "classes": (klass, {"description": "Cars up to 4500 cc"}),
        "entries": (entry, {"status": "confirmed"}),
        "organization_users": (
            api.post("/items/organization_users", {"organization_id": org["id"], "user_id": user["id"], "role": "timekeeper"}),
            {"role": "marshal"},
        ),
        "organization_vehicles": (
            api.post("/items/organization_vehicles", {"organization_id": org["id"], "vehicle_id": vehicle["id"]}),
            {},
        ),
        "organization_devices": (
            api.post("/items/organization_devices", {"organization_id": org["id"], "device_id": device["id"]}),
            {},
        ),
        "entry_crew": (
            api.post("/items/entry_crew", {"entry_id": entry["id"], "user_id": user["id"], "role": "pilot"}),
            {"role": "co-pilot"},
        ),
        "entry_devices": (
            api.post("/items/entry_devices", {"entry_id": entry["id"], "device_id": device["id"], "purpose": "chassis"}),
            {"purpose": "backup"},
        ),
    }
    assert set(rows) == set(COLLECTIONS)
    for name, (row, change) in rows.items():
        assert api.get(f"/items/{name}/{row['id']}")["id"] == row["id"]
        if change:
            updated = api.patch(f"/items/{name}/{row['id']}", change)
            assert all(updated[k] == v for k, v in change.items()), name
    me = api.patch(f"/users/{user['id']}", {"phone": "+355 69 123 4567", "nationality": "AL", "birth_date": "1980-02-03"})
    assert (me["phone"], me["nationality"], me["birth_date"]) == ("+355 69 123 4567", "AL", "1980-02-03")
    # Delete children before parents: RESTRICT everywhere.
    for name in (
        "entry_devices",
        "entry_crew",
        "organization_users",
        "organization_vehicles",
        "organization_devices",
        "entries",
        "classes",
        "events",
        "organizations",
        "vehicles",
        "devices",
    ):
        api.delete(f"/items/{name}/{rows[name][0]['id']}")
        assert count(stack, name + f" WHERE id = '{rows[name][0]['id']}'") == 0, name


# --- constraints ---------------------------------------------------------------------------------


def test_race_number_is_unique_within_an_event_but_not_across_events(g, stack):
    event = g.event()
    klass = g.klass(event)
    g.entry(event, klass, race_number=7)
    before = count(stack, "entries")
    refused(lambda: g.entry(event, klass, race_number=7), code="RECORD_NOT_UNIQUE")
    assert count(stack, "entries") == before
    other = g.event()
    assert g.entry(other, g.klass(other), race_number=7)["race_number"] == 7


def test_class_of_another_event_is_refused_by_the_api_and_the_database(g, stack):
    event, other = g.event(), g.event()
    foreign_class = g.klass(other)
    before = count(stack, "entries")
    err = refused(lambda: g.entry(event, foreign_class), code="INVALID_PAYLOAD")
    assert "belongs to another event" in err.what
    entry = g.entry(event, g.klass(event))
    refused(lambda: g.api.patch(f"/items/entries/{entry['id']}", {"class_id": foreign_class["id"]}), code="INVALID_PAYLOAD")
    assert count(stack, "entries") == before + 1
    with (
        pytest.raises(psycopg.errors.ForeignKeyViolation, match="entries_class_same_event_fkey"),
        psycopg.connect(stack.info.dsn) as conn,
    ):
        conn.execute("UPDATE entries SET class_id = %s WHERE id = %s", (foreign_class["id"], entry["id"]))


def test_event_ending_before_it_starts_is_refused_on_create_and_update(g, stack):
    org = g.org()
    before = count(stack, "events")
    err = refused(lambda: g.event(org, starts_at="2026-06-13T06:00:00Z", ends_at="2026-06-06T18:00:00Z"), code="INVALID_PAYLOAD")
    assert "ends_at must be after starts_at" in err.what
    event = g.event(org)
    refused(lambda: g.api.patch(f"/items/events/{event['id']}", {"starts_at": "2026-07-01T00:00:00Z"}), code="INVALID_PAYLOAD")
    assert count(stack, "events") == before + 1
    assert g.api.get(f"/items/events/{event['id']}")["starts_at"].startswith("2026-06-06")
    with (
        pytest.raises(psycopg.errors.CheckViolation, match="events_ends_after_starts_check"),
        psycopg.connect(stack.info.dsn) as conn,
    ):
        conn.execute("UPDATE events SET ends_at = starts_at WHERE id = %s", (event["id"],))


def test_deleting_an_organization_with_events_is_refused_and_nothing_is_deleted(g, stack):
    event = g.event()
    org_id = event["organization_id"]
    err = refused(lambda: g.api.delete(f"/items/organizations/{org_id}"), code="INVALID_PAYLOAD")
    assert "still referenced by events.organization_id (1 row)" in err.what
    assert count(stack, f"organizations WHERE id = '{org_id}'") == 1
    assert count(stack, f"events WHERE id = '{event['id']}'") == 1


@pytest.mark.parametrize(
    "collection",
    ["organization_users", "organization_vehicles", "organization_devices", "entry_crew", "entry_devices", "events", "classes"],
)
def test_composite_uniques_refuse_duplicates_with_a_client_error(g, stack, collection):
    org, event = g.org(), None
    if collection == "organization_users":
        body = {"organization_id": org["id"], "user_id": g.user()["id"], "role": "viewer"}
    elif collection == "organization_vehicles":
        body = {"organization_id": org["id"], "vehicle_id": g.vehicle()["id"]}
    elif collection == "organization_devices":
        body = {"organization_id": org["id"], "device_id": g.device()["id"]}
    elif collection == "entry_crew":
        # a role without a per-entry maximum, so the composite unique (not the discipline rules) answers
        body = {"entry_id": g.entry()["id"], "user_id": g.user()["id"], "role": "mechanic"}
    elif collection == "entry_devices":
        body = {"entry_id": g.entry()["id"], "device_id": g.device()["id"], "purpose": "chassis"}
    elif collection == "events":
        event = g.event(org)
        body = None
    else:
        event = g.event(org)
        body = {"event_id": event["id"], "code": "M-1", "name": "Moto under 450cc"}
    if collection == "events":

        def again():
            return g.event(org, slug=event["slug"])
    else:
        g.api.post(f"/items/{collection}", body)

        def again():
            return g.api.post(f"/items/{collection}", body)

    before = count(stack, collection)
    refused(again, code="RECORD_NOT_UNIQUE")
    assert count(stack, collection) == before
    if collection == "events":  # the same slug in another organisation is fine
        assert g.event(g.org(), slug=event["slug"])["slug"] == event["slug"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/items/devices", {"imei": "12345", "model": "FMB920"}, "imei"),
        ("/items/organizations", {"name": "X", "slug": "Not A Slug"}, "slug"),
        ("/items/events", {"discipline": "motocross"}, "discipline"),
        ("/items/classes", {"code": "moto1", "name": "x"}, "code"),
        ("/items/vehicles", {"make": "Toyota", "model": "LC70", "year": 1850}, "year"),
        ("/items/entries", {"race_number": 0}, "race_number"),
    ],
)
def test_field_validation_refuses_malformed_values(api, g, stack, path, body, field):
    collection = path.rsplit("/", 1)[1]
    if collection == "events":
        org = g.org()
        body = {
            "organization_id": org["id"],
            "name": "E",
            "slug": uniq("e"),
            "starts_at": "2026-06-06T06:00:00Z",
            "ends_at": "2026-06-07T06:00:00Z",
            **body,
        }
    if collection == "classes":
        body = {"event_id": g.event()["id"], **body}
    if collection == "entries":
        event = g.event()
        body = {"event_id": event["id"], "class_id": g.klass(event)["id"], "vehicle_id": g.vehicle()["id"], **body}
    before = count(stack, collection)
    err = refused(lambda: api.post(path, body), code="FAILED_VALIDATION")
    assert f'field "{field}"' in err.what
    assert count(stack, collection) == before


def test_user_profile_fields_are_validated(api, g):
    user = g.user()
    refused(lambda: api.patch(f"/users/{user['id']}", {"nationality": "alb"}), code="FAILED_VALIDATION")
    refused(lambda: api.patch(f"/users/{user['id']}", {"phone": "call me"}), code="FAILED_VALIDATION")


def test_duplicate_imei_is_refused(g, stack):
    device = g.device()
    refused(lambda: g.api.post("/items/devices", {"imei": device["imei"], "model": "FMB003"}), code="RECORD_NOT_UNIQUE")


def test_panic_button_assignment_is_cleared_when_the_user_is_deleted(g, api):
    user = g.user()
    link = api.post(
        "/items/entry_devices",
        {"entry_id": g.entry()["id"], "device_id": g.device()["id"], "purpose": "panic-button", "assigned_user_id": user["id"]},
    )
    api.delete(f"/users/{user['id']}")
    assert api.get(f"/items/entry_devices/{link['id']}")["assigned_user_id"] is None


def test_foot_race_entries_need_no_vehicle(g):
    event = g.event(discipline="trail-run")
    entry = g.entry(event, g.klass(event, code="T-1"))
    assert entry["vehicle_id"] is None and entry["status"] == "registered"


def test_post_schema_files_are_idempotent_on_their_own(stack):
    def constraints() -> list[tuple]:
        return query(
            stack.info.dsn,
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        )

    before = constraints()
    assert len([c for c in before if c[1].endswith(("_key", "_check", "_fkey"))]) >= 23
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        for f in discover(REPO / "db-init"):
            if f.phase == "post":
                for stmt in f.statements:
                    conn.execute(stmt.sql)
    assert constraints() == before
