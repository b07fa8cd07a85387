"""`nox -s seed`: on a throw-away stack, seed, seed again (zero changes), and check counts and relations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import console
from ..directus.api import Directus
from ..errors import SeedError
from ..rules import seeding
from ..stacks.native import NativeStack
from . import loader
from . import seed_file as document
from . import stages as course


def expected_counts(doc: dict[str, Any]) -> dict[str, int]:
    """What the database must hold after seeding `doc` into an empty stack, derived from the document."""
    orgs, events = doc.get("organizations") or [], doc.get("events") or []
    entries = [n for e in events for n in e.get("entries") or []]
    counts = {
        "organizations": len(orgs),
        "vehicles": len(doc.get("vehicles") or []),
        "devices": len(doc.get("devices") or []),
        "organization_users": sum(len(o.get("members") or []) for o in orgs),
        "organization_vehicles": sum(len(o.get("vehicles") or []) for o in orgs),
        "organization_devices": sum(len(o.get("devices") or []) for o in orgs),
        "events": len(events),
        "classes": sum(len(e.get("classes") or []) for e in events),
        "entries": len(entries),
        "entry_crew": sum(len(n.get("crew") or []) for n in entries),
        "entry_devices": sum(len(n.get("devices") or []) for n in entries),
        **course.expected_counts(events),
    }
    for collection, n in seeding.expected_counts(events).items():  # an event's rules file (`rules:`)
        counts[collection] = counts.get(collection, 0) + n
    return counts


def check_relations(api: Directus, doc: dict[str, Any]) -> list[str]:
    """Every entry, read back through the API, has the class, vehicle, crew and devices of the file."""
    problems = []
    for event in doc.get("events") or []:
        rows = api.get(
            "/items/entries",
            filter={"event_id": {"slug": {"_eq": event["slug"]}}},
            limit=-1,
            fields="race_number,event_id.slug,class_id.code,class_id.event_id.slug,vehicle_id.plate,"
            "crew.user_id.email,crew.role,devices.device_id.imei,devices.assigned_user_id.email",
        )
        by_number = {r["race_number"]: r for r in rows}
        for want in event.get("entries") or []:
            got = by_number.get(want["race_number"])
            tag = f"{event['slug']} #{want['race_number']}"
            if got is None:
                problems.append(f"{tag}: missing")
                continue
            if got["class_id"]["code"] != want["class"] or got["class_id"]["event_id"]["slug"] != event["slug"]:
                problems.append(f"{tag}: class {got['class_id']}")
            if (got["vehicle_id"] or {}).get("plate") != want.get("vehicle"):
                problems.append(f"{tag}: vehicle {got['vehicle_id']}")
            crew = {(c["user_id"]["email"], c["role"]) for c in got["crew"]}
            if crew != {(c["user"].lower(), c["role"]) for c in want.get("crew") or []}:
                problems.append(f"{tag}: crew {sorted(crew)}")
            devices = {(d["device_id"]["imei"], (d["assigned_user_id"] or {}).get("email")) for d in got["devices"]}
            wanted = {(str(d["imei"]), (d.get("assigned_to") or "").lower() or None) for d in want.get("devices") or []}
            if devices != wanted:
                problems.append(f"{tag}: devices {sorted(devices, key=str)}")
    return problems


def verify(path: Path) -> None:
    doc = document.load(path)
    with NativeStack() as stack:
        api = Directus(stack.url, stack.info.admin_token)
        first = loader.load(api, doc)
        console.out(f"first run ({path.name} into a fresh stack):\n{first.render()}")
        second = loader.load(api, doc)
        console.out(f"second run:\n{second.render()}")
        problems = [] if second.changes == 0 else [f"second run changed {second.changes} row(s)"]
        for collection, want in expected_counts(doc).items():
            got = len(api.get(f"/items/{collection}", fields="id", limit=-1))
            if got != want:
                problems.append(f"{collection}: {got} rows, expected {want}")
        problems += check_relations(api, doc)
    if problems:
        raise SeedError(
            f"seed verification of {path} failed ({len(problems)} problem(s))",
            "see the list above",
            details="\n".join(f"  {p}" for p in problems),
        )
    console.out(f"verified: counts of {len(expected_counts(doc))} collections and the relations of every entry match {path.name}")
