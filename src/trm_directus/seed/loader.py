"""Load a validated seed document through Directus's REST API, idempotently and in batches.

Rows are matched by natural keys (slugs, e-mails, plates, IMEIs, codes, race numbers), never by
database ids. Per collection: one GET of the existing rows (several when thousands of keys would
make the URL too long), at most one batch POST for the rows to create and one batch PATCH for the
rows whose values changed; rows already equal are left alone, rows in the database but not in the
file are never touched. Hooks and permissions apply because
everything goes through the API.

All or nothing: every write is journaled *before* its request (the natural keys of rows to
create, the old values of rows to update), so whatever stops the run — an API error, an
unexpected response, Ctrl-C, SIGTERM — the undo deletes the rows carrying those keys and writes
the old values back, newest first, shielded from a second signal. If the undo fails too, the
original error is kept and the message lists what was left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .. import console, signals
from ..directus.api import Directus
from ..errors import SeedError, TrmError
from . import stages as course

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Spec:
    collection: str
    path: str  # REST path of the collection
    keys: tuple[str, ...]  # natural key fields (foreign keys already resolved to ids)
    values: tuple[str, ...]  # fields managed by the seed


RADII = ("open_radius_m", "validation_radius_m")
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
        Spec("waypoint_radius_defaults", "/items/waypoint_radius_defaults", ("event_id", "waypoint_type"), RADII),
        Spec("stages", "/items/stages", ("event_id", "name"), STAGE_VALUES),
        Spec("entries", "/items/entries", ("event_id", "race_number"), ("class_id", "vehicle_id", "status", "notes")),
        Spec("entry_crew", "/items/entry_crew", ("entry_id", "user_id"), ("role",)),
        Spec("entry_devices", "/items/entry_devices", ("entry_id", "device_id"), ("purpose", "assigned_user_id")),
    ]
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Report:
    counts: dict[str, Counts] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def changes(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())

    def render(self) -> str:
        verb = "would be " if self.dry_run else ""
        w = max([22, *(len(name) for name in self.counts)])
        lines = [f"  {'collection':<{w}} {'created':>8} {'updated':>8} {'unchanged':>10}"]
        for name, c in self.counts.items():
            lines.append(f"  {name:<{w}} {c.created:>8} {c.updated:>8} {c.unchanged:>10}")
        total = Counts(*(sum(getattr(c, a) for c in self.counts.values()) for a in ("created", "updated", "unchanged")))
        lines.append(f"  {'total':<{w}} {total.created:>8} {total.updated:>8} {total.unchanged:>10}")
        summary = (
            "no changes: the database already holds this seed"
            if self.changes == 0
            else f"{total.created} {verb}created, {total.updated} {verb}updated"
        )
        lines.append(f"{summary} ({self.requests} requests, {self.seconds:.1f}s)")
        return "\n".join(lines)


def _same(a: Any, b: Any) -> bool:
    """Equality across the API's and YAML's representations (datetimes, dates, numbers)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, datetime) or isinstance(b, datetime) or (isinstance(a, str) and "T" in a and ":" in a):
        try:
            return _dt(a) == _dt(b)
        except ValueError:
            return str(a) == str(b)
    if isinstance(a, date) or isinstance(b, date):
        return str(a)[:10] == str(b)[:10]
    return a == b


def _dt(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(str(v).replace("Z", "+00:00"))


def _json(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


class Loader:
    def __init__(self, api: Directus, *, dry_run: bool = False) -> None:
        self.api = api
        self.dry_run = dry_run
        self.report = Report(dry_run=dry_run)
        self._placeholder = 0
        # What this run may have changed, recorded before each request: ("created", spec, rows to
        # create, by natural key), ("updated", spec, the rows' previous values) or ("deleted", spec,
        # the rows a run replaces, without ids: rules/load.py).
        self.journal: list[tuple[str, Spec, list[Any]]] = []

    def sync(self, collection: str, rows: list[dict[str, Any]]) -> dict[Key, Any]:
        """Make the database hold `rows` (natural keys resolved); returns natural key -> id."""
        spec = SPECS[collection]
        counts = self.report.counts.setdefault(collection, Counts())
        ids: dict[Key, Any] = {}
        if not rows:
            return ids
        existing = self._existing(spec, rows)
        existing_by_id = {item["id"]: item for item in existing.values()}
        creates, updates = [], []
        for row in rows:
            key = tuple(row[k] for k in spec.keys)
            have = existing.get(key)
            if have is None:
                creates.append((key, row))
                continue
            ids[key] = have["id"]
            changed = {f: _json(row.get(f)) for f in spec.values if f in row and not _same(row.get(f), have.get(f))}
            if changed:
                updates.append({"id": have["id"], **changed})
            else:
                counts.unchanged += 1
        if creates:
            payload = [{k: _json(v) for k, v in row.items() if v is not None} for _, row in creates]
            if self.dry_run:
                created = [{"id": self._new_id(collection), **dict(zip(spec.keys, key, strict=True))} for key, _ in creates]
            else:
                self.journal.append(("created", spec, [row for _, row in creates]))
                # Directus returns created items in database order, not request order: match them by key.
                created = self.api.post(spec.path, payload, fields=",".join(("id", *spec.keys)))
            by_key = {tuple(item[k] for k in spec.keys): item["id"] for item in created}
            for key, _ in creates:
                ids[key] = by_key[key]
            counts.created += len(creates)
        if updates:
            if not self.dry_run:
                previous = [
                    {"id": u["id"], **{f: _json(existing_by_id[u["id"]].get(f)) for f in u if f != "id"}} for u in updates
                ]
                self.journal.append(("updated", spec, previous))
                self.api.patch(spec.path, updates, fields="id")
            counts.updated += len(updates)
        return ids

    def undo(self) -> tuple[int, int]:
        """Revert this run's writes, newest first: delete the rows created under the journaled natural
        keys (also when the request's answer never arrived), restore updated values. An entry leaves
        the journal only once undone, so after a failure the journal is what was left."""
        deleted = restored = 0
        while self.journal:
            action, spec, payload = self.journal[-1]
            if action == "created" and all("id" in row for row in payload):  # ids chosen before the request
                ids = [item["id"] for item in self.api.get_in(spec.path, "id", [r["id"] for r in payload], fields="id", limit=-1)]
                if ids:
                    self.api.delete(spec.path, ids)
                deleted += len(ids)
            elif action == "created":
                # Only the journaled keys: _existing() answers every row sharing their first key (e.g. an event's classes).
                keys = {tuple(row[k] for k in spec.keys) for row in payload}
                ids = [item["id"] for key, item in self._existing(spec, payload).items() if key in keys]
                if ids:
                    self.api.delete(spec.path, ids)
                deleted += len(ids)
            elif action == "deleted":  # rows a run replaced (rules/load.py): create again those that are gone
                present = self._existing(spec, payload)
                missing = [row for row in payload if tuple(row[k] for k in spec.keys) not in present]
                if missing:
                    self.api.post(spec.path, missing, fields="id")
                restored += len(missing)
            else:
                self.api.patch(spec.path, payload, fields="id")
                restored += len(payload)
            self.journal.pop()
        return deleted, restored

    def left(self) -> list[str]:
        """What the journal still holds (after a failed undo), one line per collection."""
        lines = []
        for action, spec, payload in self.journal:
            if action == "created":
                keys = [", ".join(str(row[k]) for k in spec.keys) for row in payload]
                lines.append(f"  {spec.collection}: up to {len(payload)} created row(s) with keys {'; '.join(keys[:10])}")
            elif action == "deleted":
                keys = [", ".join(str(row[k]) for k in spec.keys) for row in payload]
                lines.append(
                    f"  {spec.collection}: up to {len(payload)} deleted row(s) not re-created, keys {'; '.join(keys[:10])}"
                )
            else:
                ids = [str(row["id"]) for row in payload]
                lines.append(f"  {spec.collection}: {len(payload)} updated row(s) not restored (ids {', '.join(ids[:10])})")
        return lines

    def _existing(self, spec: Spec, rows: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
        first = spec.keys[0]
        wanted = sorted({str(r[first]) for r in rows if not str(r[first]).startswith("new:")})
        if not wanted:
            return {}
        found = self.api.get_in(spec.path, first, wanted, fields=",".join(("id", *spec.keys, *spec.values)), limit=-1)
        return {tuple(item[k] for k in spec.keys): item for item in found}

    def _new_id(self, collection: str) -> str:
        self._placeholder += 1
        return f"new:{collection}:{self._placeholder}"


def load(api: Directus, doc: dict[str, Any], *, dry_run: bool = False) -> Report:
    """Seed a validated document (see document.py) in dependency order; all or nothing."""
    t0 = time.monotonic()
    start_requests = api.requests
    loader = Loader(api, dry_run=dry_run)
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
