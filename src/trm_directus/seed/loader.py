"""Load a validated seed document through Directus's REST API, idempotently and in batches.

Rows are matched by natural keys (slugs, e-mails, plates, IMEIs, codes, race numbers), never by
database ids, with the batch writer of directus/writer.py (one GET per collection, at most one batch
POST and one batch PATCH; rows in the database but not in the file are never touched).

All or nothing: every write is journaled *before* its request (the natural keys of rows to
create, the old values of rows to update), so whatever stops the run — an API error, an
unexpected response, Ctrl-C, SIGTERM — the undo deletes the rows carrying those keys and writes
the old values back, newest first, shielded from a second signal. If the undo fails too, the
original error is kept and the message lists what was left.
"""

from __future__ import annotations

import time
from typing import Any

from .. import console, signals
from ..course import radius_defaults
from ..directus.api import Directus
from ..directus.writer import Loader, Report, Spec
from ..errors import SeedError, TrmError
from . import stages as course

STAGE_VALUES = (*course.STAGE_FIELDS, "start_order_input_stage_id", "notes")
SPECS = {
    s.collection: s
    for s in [
        Spec("organizations", "/items/organizations", ("slug",), ("name",)),
        Spec("directus_users", "/users", ("email",), ("first_name", "last_name", "phone", "birth_date", "nationality")),
        Spec("vehicles", "/items/vehicles", ("plate",), ("make", "model", "year", "cc", "vin")),
        Spec("devices", "/items/devices", ("imei",), ("model", "serial_number")),
        Spec("organization_users", "/items/organization_users", ("organization_id", "user_id"), ("role",)),
        Spec("organization_vehicles", "/items/organization_vehicles", ("organization_id", "vehicle_id"), ()),
        Spec("organization_devices", "/items/organization_devices", ("organization_id", "device_id"), ()),
        Spec(
            "events",
            "/items/events",
            ("organization_id", "slug"),
            ("name", "discipline", "timezone", "starts_at", "ends_at", "regulation_doc_url", "notes"),
        ),
        Spec("classes", "/items/classes", ("event_id", "code"), ("name", "description", "sort_order")),
        radius_defaults.SPEC,
        Spec("stages", "/items/stages", ("event_id", "name"), STAGE_VALUES),
        Spec("entries", "/items/entries", ("event_id", "race_number"), ("class_id", "vehicle_id", "status", "notes")),
        Spec("entry_crew", "/items/entry_crew", ("entry_id", "user_id"), ("role",)),
        Spec("entry_devices", "/items/entry_devices", ("entry_id", "device_id"), ("purpose", "assigned_user_id")),
    ]
}


def load(api: Directus, doc: dict[str, Any], *, dry_run: bool = False) -> Report:
    """Seed a validated document (see document.py) in dependency order; all or nothing."""
    t0 = time.monotonic()
    start_requests = api.requests
    loader = Loader(api, SPECS, dry_run=dry_run)
    try:
        _load(loader, doc)
    except BaseException as exc:
        raise _failed(loader, exc) from exc
    loader.report.requests = api.requests - start_requests
    loader.report.seconds = time.monotonic() - t0
    console.info(f"seed {'planned' if dry_run else 'loaded'} in {loader.report.seconds:.1f}s")
    return loader.report


def _failed(loader: Loader, exc: BaseException) -> SeedError:
    """Undo what the run wrote, and describe the failure: the original error first, then the undo."""
    collection = next(reversed(loader.report.counts), "?")
    what, details = signals.stopped_by(exc, "seeding failed", "seeding interrupted", collection)
    if not loader.journal:
        return SeedError(what, "nothing was written; fix the cause and run the seed again", details=details)
    console.info(f"{what}: undoing this run's writes")
    try:
        with signals.shielded("the seed's undo"):
            deleted, restored = loader.undo()
    except BaseException as undo_exc:
        why = undo_exc.what if isinstance(undo_exc, TrmError) else f"{type(undo_exc).__name__}: {undo_exc}"
        left = "\n".join(loader.left())
        return SeedError(
            f"{what}; undoing it failed too ({why})",
            "the rows listed are left in the database: run the seed again once Directus answers (it completes "
            "what is missing and changes nothing else), or delete them",
            details=f"{details}\nleft in the database:\n{left}".strip(),
        )
    return SeedError(
        what,
        f"nothing is left half-applied (rolled back: {deleted} created row(s) deleted, {restored} updated row(s) "
        "restored); fix the cause and run the seed again",
        details=details,
    )


def _load(loader: Loader, doc: dict[str, Any]) -> None:
    org_ids = loader.sync("organizations", [{"slug": o["slug"], "name": o["name"]} for o in doc.get("organizations") or []])
    user_ids = loader.sync(
        "directus_users",
        [
            {
                "email": u["email"].lower(),
                **{k: u.get(k) for k in ("first_name", "last_name", "phone", "birth_date", "nationality")},
            }
            for u in doc.get("users") or []
        ],
    )
    vehicle_ids = loader.sync(
        "vehicles",
        [
            {"plate": v["plate"], **{k: v.get(k) for k in ("make", "model", "year", "cc", "vin")}}
            for v in doc.get("vehicles") or []
        ],
    )
    device_ids = loader.sync(
        "devices",
        [
            {"imei": str(d["imei"]), "model": d["model"], "serial_number": d.get("serial_number")}
            for d in doc.get("devices") or []
        ],
    )
    org = lambda slug: org_ids[(slug,)]  # noqa: E731
    user = lambda email: user_ids[(str(email).lower(),)]  # noqa: E731
    orgs = doc.get("organizations") or []
    loader.sync(
        "organization_users",
        [
            {"organization_id": org(o["slug"]), "user_id": user(m["user"]), "role": m["role"]}
            for o in orgs
            for m in o.get("members") or []
        ],
    )
    loader.sync(
        "organization_vehicles",
        [{"organization_id": org(o["slug"]), "vehicle_id": vehicle_ids[(p,)]} for o in orgs for p in o.get("vehicles") or []],
    )
    loader.sync(
        "organization_devices",
        [{"organization_id": org(o["slug"]), "device_id": device_ids[(str(i),)]} for o in orgs for i in o.get("devices") or []],
    )
    events = doc.get("events") or []
    event_ids = loader.sync(
        "events",
        [
            {
                "organization_id": org(e["organization"]),
                "slug": e["slug"],
                **{
                    k: e.get(k) for k in ("name", "discipline", "timezone", "starts_at", "ends_at", "regulation_doc_url", "notes")
                },
            }
            for e in events
        ],
    )
    event = lambda e: event_ids[(org(e["organization"]), e["slug"])]  # noqa: E731
    class_ids = loader.sync(
        "classes",
        [
            {
                "event_id": event(e),
                "code": c["code"],
                "name": c["name"],
                "description": c.get("description"),
                "sort_order": c.get("sort_order", i + 1),
            }
            for e in events
            for i, c in enumerate(e.get("classes") or [])
        ],
    )
    course.load(loader, events, event)
    from ..rules import seeding

    seeding.load_seed(loader, events, event)
    entry_ids = loader.sync(
        "entries",
        [
            {
                "event_id": event(e),
                "race_number": n["race_number"],
                "class_id": class_ids[(event(e), n["class"])],
                "vehicle_id": vehicle_ids[(n["vehicle"],)] if n.get("vehicle") else None,
                "status": n.get("status", "registered"),
                "notes": n.get("notes"),
            }
            for e in events
            for n in e.get("entries") or []
        ],
    )
    entry = lambda e, n: entry_ids[(event(e), n["race_number"])]  # noqa: E731
    loader.sync(
        "entry_crew",
        [
            {"entry_id": entry(e, n), "user_id": user(c["user"]), "role": c["role"]}
            for e in events
            for n in e.get("entries") or []
            for c in n.get("crew") or []
        ],
    )
    loader.sync(
        "entry_devices",
        [
            {
                "entry_id": entry(e, n),
                "device_id": device_ids[(str(d["imei"]),)],
                "purpose": d.get("purpose"),
                "assigned_user_id": user(d["assigned_to"]) if d.get("assigned_to") else None,
            }
            for e in events
            for n in e.get("entries") or []
            for d in n.get("devices") or []
        ],
    )
    course.import_courses(loader.api, events, lambda e: e["organization"], event, loader.report, dry_run=loader.dry_run)
