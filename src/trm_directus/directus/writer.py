"""Rows written through Directus's REST API by natural key, idempotently, in batches, with an undo.

Rows are matched by natural keys (slugs, e-mails, plates, codes…), never by database ids. Per collection:
one GET of the existing rows (several when thousands of keys would make the URL too long), at most one
batch POST for the rows to create and one batch PATCH for the rows whose values changed; rows already
equal are left alone, rows in the database but not in the input are never touched. Hooks and
permissions apply because everything goes through the API.

Every write is journaled *before* its request (the natural keys of rows to create, the old values of
rows to update), so `Loader.undo` can take a failed run back whatever stopped it. The seed
(seed/loader.py) and rules-import (rules/load.py) write with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .api import Directus

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Spec:
    collection: str
    path: str  # REST path of the collection
    keys: tuple[str, ...]  # natural key fields (foreign keys already resolved to ids)
    values: tuple[str, ...]  # fields managed by the seed


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


def same(a: Any, b: Any) -> bool:
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
    """Rows of several collections written by natural key through the REST API, journaled so that a
    failed run can be undone (see the module docstring)."""

    def __init__(self, api: Directus, specs: dict[str, Spec] | None = None, *, dry_run: bool = False) -> None:
        self.api = api
        self.specs = specs or {}
        self.dry_run = dry_run
        self.report = Report(dry_run=dry_run)
        self._placeholder = 0
        # What this run may have changed, recorded before each request: ("created", spec, rows to
        # create, by natural key), ("updated", spec, the rows' previous values) or ("deleted", spec,
        # the rows a run replaces, without ids: e.g. rules/load.py).
        self.journal: list[tuple[str, Spec, list[Any]]] = []

    def sync(self, spec: Spec | str, rows: list[dict[str, Any]]) -> dict[Key, Any]:
        """Make the database hold `rows` (natural keys resolved); returns natural key -> id. `spec` is a
        Spec or the name of one of the loader's."""
        spec = self.specs[spec] if isinstance(spec, str) else spec
        collection = spec.collection
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
            changed = {f: _json(row.get(f)) for f in spec.values if f in row and not same(row.get(f), have.get(f))}
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
            elif action == "deleted":  # rows a run replaced (e.g. rules/load.py): create again those that are gone
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
