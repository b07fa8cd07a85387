"""Two organisations with users who log in with passwords, and valid rows of every collection in each."""

from __future__ import annotations

import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import REPO, SEEDS
from tests.integration.graph import imei, point, square
from trm_directus.directus.api import Directus
from trm_directus.seed import loader
from trm_directus.seed import seed_file as document

PASSWORD = "matrix-Pa55word!"
# Org A (Rally Albania's club): one user per org role; the participant is crew of entry 301.
A_USERS = {
    "org-admin": "ada.admin@example.com",
    "race-director": "rita.director@example.com",
    "timekeeper": "tina.timekeeper@example.com",
    "marshal": "marco.marshal@example.com",
    "participant": "paul.pilot@example.com",
    "viewer": "victor.viewer@example.com",
}
NO_ORG = "nobody.member@example.com"
_n = itertools.count(1)


def fresh(prefix: str) -> str:
    return f"{prefix}-{next(_n)}-{uuid.uuid4().hex[:6]}"


@dataclass
class Org:
    """The ids one organisation's rows hang off, and a reference row of every collection."""

    org: str
    event: str
    klass: str
    entry: str
    vehicle: str
    device: str
    stage: str
    stage2: str
    segment: str
    segment2: str
    waypoint: str
    spare_type: str  # a waypoint type without a radius default in this event
    rows: dict[str, Any] = field(default_factory=dict)  # collection -> id of a row of this organisation


class World:
    def __init__(self, api: Directus, url: str) -> None:
        self.api = api
        self.url = url
        self.users: dict[str, str] = {}  # email -> id

    # -- setup ------------------------------------------------------------------------------------

    def build(self) -> None:
        if not self.api.get("/items/organizations", filter={"slug": {"_eq": "adriatic-trail-club"}}):
            for name in SEEDS:
                loader.load(self.api, document.load(REPO / "seeds" / name))
        [member] = self.api.get("/roles", filter={"name": {"_eq": "Member"}}, fields="id")
        if not self.api.get("/users", filter={"email": {"_eq": NO_ORG}}):
            self.api.post("/users", {"email": NO_ORG, "first_name": "No", "last_name": "Orgtest"})
        # every seeded person (no Directus role yet) becomes a Member who logs in with a password
        for u in self.api.get("/users", limit=-1, fields="id,email,role.name"):
            if (u.get("role") or {}).get("name") == "Administrator":
                continue
            self.api.patch(f"/users/{u['id']}", {"role": member["id"], "password": PASSWORD, "status": "active"})
            self.users[u["email"]] = u["id"]
        self.a = self.org("msc-albania", "rally-albania-2026", 301)
        self.b = self.org("adriatic-trail-club", "adriatic-trail-2026", 7)

    def one(self, collection: str, **where: Any) -> dict:
        rows = self.api.get(f"/items/{collection}", filter={k: {"_eq": v} for k, v in where.items()}, limit=1)
        assert rows, (collection, where)
        return rows[0]

    def org(self, slug: str, event_slug: str, race_number: int) -> Org:
        api = self.api
        org = self.one("organizations", slug=slug)["id"]
        event = self.one("events", slug=event_slug)["id"]
        entry = self.one("entries", event_id=event, race_number=race_number)
        stages = api.get("/items/stages", filter={"event_id": {"_eq": event}}, sort="sort_order", fields="id")
        if len(stages) < 2:
            stages.append(
                api.post("/items/stages", {"event_id": event, "name": fresh("Stage"), "sort_order": 90, "kind": "stage"})
            )
        segs = [
            api.post(
                "/items/segments", {"stage_id": stages[0]["id"], "sort_order": random.randint(500, 9_000_000), "type": "liaison"}
            )
            for _ in (0, 1)
        ]
        # Two types: TC for the reference row, CP kept free for the rows the cells create (and delete). A TC
        # row there already is another world's reference on the same stack (the access matrix's and the
        # attacks' worlds share the seeded stack, in either order): it is shared, never deleted.
        defaults = api.get("/items/waypoint_radius_defaults", filter={"event_id": {"_eq": event}})
        radius = {r["waypoint_type"]: r["id"] for r in defaults}
        if "CP" in radius:
            api.delete(f"/items/waypoint_radius_defaults/{radius['CP']}")
        device = self.one("entry_devices", entry_id=entry["id"])["device_id"]
        o = Org(
            org,
            event,
            entry["class_id"],
            entry["id"],
            entry["vehicle_id"],
            device,
            stages[0]["id"],
            stages[1]["id"],
            segs[0]["id"],
            segs[1]["id"],
            "",
            "CP",
        )
        o.waypoint = api.post("/items/waypoints", self.payload("waypoints", o))["id"]
        o.rows = {
            "command_kinds": "getgps" if slug == "msc-albania" else "getinfo",  # reference data: no organisation's own
            "organizations": org,
            "events": event,
            "classes": o.klass,
            "entries": o.entry,
            "vehicles": o.vehicle,
            "devices": device,
            "stages": o.stage,
            "segments": o.segment,
            "waypoints": o.waypoint,
            "entry_crew": self.one("entry_crew", entry_id=entry["id"])["id"],
            "entry_devices": self.one("entry_devices", entry_id=entry["id"])["id"],
        }
        if "TC" in radius:
            o.rows["waypoint_radius_defaults"] = radius["TC"]
        # a command to the organisation's reference device (no gateway holds it: it fails at once)
        o.rows["commands"] = api.post("/items/commands", {"device_id": device, "kind": "getgps"})["id"]
        self.settled(o.rows["commands"])
        for c in CREATABLE:
            if c not in o.rows:
                body = self.payload(c, o)
                if c == "stage_results":
                    body = {**body, "stage_id": o.stage}
                    have = api.get(f"/items/{c}", filter={"entry_id": {"_eq": o.entry}, "stage_id": {"_eq": o.stage}})
                    if have:
                        o.rows[c] = have[0]["id"]
                        continue
                if c == "entry_segment_starts":
                    body = {**body, "segment_id": o.segment}
                if c == "waypoint_radius_defaults":
                    body = {**body, "waypoint_type": "TC"}
                o.rows[c] = api.post(f"/items/{c}", body)["id"]
        return o

    def settled(self, command: str, timeout: float = 20) -> None:
        """Wait until the system is done with a command (delivery is an action after the create)."""
        deadline = time.monotonic() + timeout
        while self.api.get(f"/items/commands/{command}", fields="status")["status"] in ("queued", "sent"):
            assert time.monotonic() < deadline, f"command {command} still open after {timeout:g} s"
            time.sleep(0.1)

    # -- payloads of valid new rows -----------------------------------------------------------------

    def payload(self, c: str, o: Org) -> dict:
        n = random.randint(1000, 9_000_000)
        if c == "organizations":
            return {"name": "Matrix Club", "slug": fresh("club")}
        if c == "command_kinds":
            return {"code": f"mk_{uuid.uuid4().hex[:10]}", "name": "Matrix kind", "timeout_seconds": 60}
        if c == "commands":
            return {"device_id": o.device, "kind": "getgps"}
        if c == "vehicles":
            return {"make": "Lada", "model": "Niva", "plate": fresh("MX")}
        if c == "devices":
            return {"imei": imei(), "model": "Teltonika FMB920"}
        if c == "organization_users":
            user = self.api.post("/users", {"email": f"{fresh('m')}@example.org", "first_name": "M", "last_name": "X"})
            return {"organization_id": o.org, "user_id": user["id"], "role": "viewer"}
        if c == "organization_vehicles":
            return {"organization_id": o.org, "vehicle_id": self.api.post("/items/vehicles", self.payload("vehicles", o))["id"]}
        if c == "organization_devices":
            return {"organization_id": o.org, "device_id": self.api.post("/items/devices", self.payload("devices", o))["id"]}
        if c == "events":
            return {
                "organization_id": o.org,
                "name": "Matrix Rally",
                "slug": fresh("ev"),
                "discipline": "rally",
                "starts_at": "2026-10-01T08:00:00Z",
                "ends_at": "2026-10-02T18:00:00Z",
            }
        if c == "classes":
            return {"event_id": o.event, "code": f"X-{n % 900 + 10}", "name": "Matrix class", "sort_order": n % 1000}
        if c == "entries":
            return {"event_id": o.event, "class_id": o.klass, "race_number": n, "vehicle_id": o.vehicle}
        if c == "entry_crew":
            user = self.api.post("/users", {"email": f"{fresh('c')}@example.org", "first_name": "C", "last_name": "X"})
            return {"entry_id": o.entry, "user_id": user["id"], "role": "mechanic"}
        if c == "entry_devices":  # a device of the entry's organisation (trm-integrity: no other club's device)
            device = self.api.post("/items/devices", self.payload("devices", o))["id"]
            self.api.post("/items/organization_devices", {"organization_id": o.org, "device_id": device})
            return {"entry_id": o.entry, "device_id": device, "purpose": "backup"}
        if c == "entry_penalties":
            return {"entry_id": o.entry, "type": "speeding", "seconds": 60, "note": "matrix"}
        if c == "entry_segment_starts":
            return {"entry_id": o.entry, "segment_id": o.segment2, "start_position": n, "target_at": "2026-06-07T08:00:00Z"}
        if c == "entry_crossings":
            return {
                "entry_id": o.entry,
                "waypoint_id": o.waypoint,
                "ts": f"2026-06-07T{n % 24:02d}:{n % 60:02d}:{(n // 60) % 60:02d}Z",
            }
        if c == "stage_results":
            return {"entry_id": o.entry, "stage_id": o.stage2, "elapsed_seconds": 3600}
        if c == "stages":
            return {"event_id": o.event, "name": fresh("Stage"), "sort_order": n, "kind": "stage"}
        if c == "segments":
            return {"stage_id": o.stage, "sort_order": n, "type": "liaison"}
        if c == "geofences":
            return {"event_id": o.event, "name": fresh("fence"), "kind": "zone", "geometry": square()}
        if c == "waypoints":
            return {
                "segment_id": o.segment,
                "code": fresh("WP"),
                "type": "WPV",
                "location": point(),
                "open_radius_m": 800,
                "validation_radius_m": 200,
                "sort_order": n,
            }
        if c == "speed_limit_zones":
            return {"segment_id": o.segment, "name": fresh("zone"), "speed_limit_kmh": 50, "geometry": square()}
        if c == "waypoint_radius_defaults":
            return {"event_id": o.event, "waypoint_type": o.spare_type, "open_radius_m": 900, "validation_radius_m": 100}
        if c == "penalty_formulas":
            wp = self.api.post("/items/waypoints", self.payload("waypoints", o))["id"]
            return {
                "event_id": o.event,
                "type": "missed_waypoint",
                "belongs_to_type": "waypoint",
                "belongs_to_id": wp,
                "penalty_seconds": 900,
            }
        raise AssertionError(f"no payload for {c}")


CREATABLE = (
    "organization_users",
    "organization_vehicles",
    "organization_devices",
    "geofences",
    "speed_limit_zones",
    "waypoint_radius_defaults",
    "penalty_formulas",
    "entry_penalties",
    "entry_segment_starts",
    "entry_crossings",
    "stage_results",
)
