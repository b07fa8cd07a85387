"""Test helpers for REST-level model tests: a graph of valid rows with fresh natural keys, and refusal checks."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.conftest import query
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError

_n = itertools.count(1)


def uniq(prefix: str) -> str:
    return f"{prefix}-{next(_n)}-{uuid.uuid4().hex[:6]}"


def imei() -> str:
    return str(uuid.uuid4().int)[:15].rjust(15, "1")


class Graph:
    """Creates valid rows through the API, each call with fresh natural keys."""

    def __init__(self, api: Directus) -> None:
        self.api = api

    def org(self):
        return self.api.post("/items/organizations", {"name": "Test Org", "slug": uniq("org")})

    def event(self, org=None, **over):
        org = org or self.org()
        body = {
            "organization_id": org["id"],
            "name": "Test Rally",
            "slug": uniq("ev"),
            "discipline": "rally",
            "starts_at": "2026-06-06T06:00:00Z",
            "ends_at": "2026-06-13T18:00:00Z",
            "timezone": "Europe/Tirane",
        }
        return self.api.post("/items/events", {**body, **over})

    def klass(self, event=None, code="C-2"):
        event = event or self.event()
        return self.api.post("/items/classes", {"event_id": event["id"], "code": code, "name": "Car class", "sort_order": 1})

    def user(self):
        return self.api.post("/users", {"email": f"{uniq('u')}@example.com", "first_name": "Test", "last_name": "Person"})

    def vehicle(self):
        return self.api.post(
            "/items/vehicles", {"make": "Toyota", "model": "Land Cruiser 70", "year": 1998, "cc": 4500, "plate": "AA-001-AA"}
        )

    def device(self):
        return self.api.post("/items/devices", {"imei": imei(), "model": "Teltonika FMB920"})

    def entry(self, event=None, klass=None, race_number=301, **over):
        event = event or self.event()
        klass = klass or self.klass(event)
        if "vehicle_id" not in over and event.get("discipline", "rally") in ("rally", "time-trial", "regatta"):
            over["vehicle_id"] = self.vehicle()["id"]  # motorised disciplines race a vehicle (discipline rules)
        return self.api.post(
            "/items/entries", {"event_id": event["id"], "class_id": klass["id"], "race_number": race_number, **over}
        )


def refused(call, *, code: str) -> DirectusError:
    with pytest.raises(DirectusError) as info:
        call()
    assert info.value.status == 400, info.value.render()
    assert code in info.value.what, info.value.what
    return info.value


def count(stack, table: str) -> int:
    return query(stack.info.dsn, f"SELECT count(*) FROM {table}")[0][0]


# --- course (Phase 2) ----------------------------------------------------------------------------


def square(lon: float = 19.8, lat: float = 41.3, size: float = 0.01) -> dict:
    """A closed, valid GeoJSON polygon (counter-clockwise square)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float = 19.8, lat: float = 41.3) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def line(*coords: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in (coords or ((19.8, 41.3), (19.9, 41.35)))]}


class CourseGraph(Graph):
    """Graph plus valid course rows (stages, segments, geofences, waypoints, speed zones, radius defaults)."""

    _sort = itertools.count(1)

    def stage(self, event=None, **over):
        event = event or self.event()
        n = next(self._sort)
        body = {"event_id": event["id"], "name": f"Stage {n}", "sort_order": n, "kind": "stage"}
        return self.api.post("/items/stages", {**body, **over})

    def segment(self, stage=None, **over):
        stage = stage or self.stage()
        body = {"stage_id": stage["id"], "sort_order": next(self._sort), "type": "special-stage"}
        return self.api.post("/items/segments", {**body, **over})

    def geofence(self, event, **over):
        body = {"event_id": event["id"], "name": uniq("fence"), "kind": "start", "geometry": square()}
        return self.api.post("/items/geofences", {**body, **over})

    def waypoint(self, segment=None, **over):
        segment = segment or self.segment()
        n = next(self._sort)
        body = {
            "segment_id": segment["id"],
            "code": f"WP{n}",
            "type": "WPV",
            "location": point(),
            "open_radius_m": 800,
            "validation_radius_m": 200,
            "sort_order": n,
        }
        return self.api.post("/items/waypoints", {**body, **over})

    def radius_default(self, event, waypoint_type="WPM", open_m=800, validation_m=90):
        body = {
            "event_id": event["id"],
            "waypoint_type": waypoint_type,
            "open_radius_m": open_m,
            "validation_radius_m": validation_m,
        }
        return self.api.post("/items/waypoint_radius_defaults", body)

    def event_of(self, stage) -> dict:
        return {"id": stage["event_id"]}


# --- timing (Phase 3) ------------------------------------------------------------------------------


class TimingGraph(CourseGraph):
    """CourseGraph plus timing rows: formulas, crossings, penalties, results. Entries come with a vehicle (rallies)."""

    def entry(self, event=None, klass=None, race_number=301, **over):
        over.setdefault("vehicle_id", self.vehicle()["id"])
        return super().entry(event, klass, race_number, **over)

    def formula(self, event, type="missed_waypoint", seconds=900, **over):
        body = {"event_id": event["id"], "type": type, "penalty_seconds": seconds}
        return self.api.post("/items/penalty_formulas", {**body, **over})

    def brackets(self, event, bounds, type="speeding", **over):
        """A bracket rule: bounds [(min, max, seconds), ...] in one batch (ascending)."""
        rows = [
            {"event_id": event["id"], "type": type, "offence_min": lo, "offence_max": hi, "penalty_seconds": s, **over}
            for lo, hi, s in bounds
        ]
        return self.api.post("/items/penalty_formulas", rows)

    def racer(self, event, klass=None, race_number=None, code="C-2"):
        """An entry of `event` (a class of that event is created unless given)."""
        klass = klass or self.klass(event, code=code)
        return self.entry(event, klass, race_number=race_number or next(self._sort) + 100)

    def crossing(self, entry, ts="2026-06-07T08:00:00Z", **target):
        return self.api.post("/items/entry_crossings", {"entry_id": entry["id"], "ts": ts, **target})

    def penalty(self, entry, stage=None, seconds=60, type="speeding", **over):
        body = {"entry_id": entry["id"], "stage_id": stage["id"] if stage else None, "type": type, "seconds": seconds}
        return self.api.post("/items/entry_penalties", {**body, **over})

    def result(self, entry, stage, elapsed=3600, **over):
        return self.api.post(
            "/items/stage_results", {"entry_id": entry["id"], "stage_id": stage["id"], "elapsed_seconds": elapsed, **over}
        )


def sql_refused(stack, sql: str, params: tuple = ()) -> str:
    """Run a write as a non-API writer would (the processor, psql); it must fail with a constraint error. The message."""
    import psycopg

    with pytest.raises(psycopg.errors.IntegrityError) as info, psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        conn.execute(sql, params)
    return str(info.value)
