"""What an import changes in Directus: a natural-key diff of the files' stages against the rows there.

Keys: stage (event, name); segment (stage, sort_order); waypoint (stage, code) — so a waypoint
that moves to another segment is updated in place, keeping its id; speed zone (stage, code of its
DZ). The file is the truth for the stages it names: rows of those stages that the file no longer
has are deleted (waypoints, speed zones, trailing segments), and the plan lists them. Stages not
in the files, stages' own settings (kind, start times, status), segments' max durations and
geofences, waypoint notes, and speed zones without a DZ waypoint (drawn in the UI) are never
touched; a segment's target duration only when the file states one.

Steps run in this order so that no unique or foreign-key rule is broken half-way: stages, segments
(create/update) → zones that go away or must be re-created (their segment or FZ changed) are
deleted → waypoints updated (a row whose position changes parks at sort_order + OFFSET) and
created → zones updated and created → waypoints deleted → parked waypoints get their final
sort_order → segments deleted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .remote import Existing, Row
from .stage import Stage, coords_of, linestring

OFFSET = 1_000_000
COLLECTIONS = ("stages", "segments", "waypoints", "speed_limit_zones")


@dataclass(frozen=True)
class Ref:
    """The id of a row that may not exist yet: (collection, natural key)."""

    collection: str
    key: tuple


@dataclass
class Op:
    collection: str
    action: str  # create | update | delete | place (the final sort_order of a row parked by update or create)
    label: str
    payload: dict[str, Any]  # create: the row; update/place: id + the changed values; delete: the old row
    changed: tuple[str, ...] = ()
    key: tuple = ()  # natural key of a created row
    before: dict[str, Any] = field(default_factory=dict)  # update/place: id + the values it replaces (for undo)


@dataclass
class Plan:
    event: Row
    steps: list[Op] = field(default_factory=list)
    unchanged: Counter[str] = field(default_factory=Counter)
    ids: dict[Ref, Any] = field(default_factory=dict)  # known ids (existing rows; created rows as they are written)

    def counts(self) -> dict[str, Counter[str]]:
        out = {c: Counter() for c in COLLECTIONS}
        for op in self.steps:
            if op.action in ("create", "update", "delete"):
                out[op.collection][op.action] += 1
        for c, n in self.unchanged.items():
            out[c]["unchanged"] += n
        return out

    @property
    def changes(self) -> int:
        return sum(1 for op in self.steps if op.action in ("create", "update", "delete"))


def _same_float(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))  # float columns may be single precision


def _same(field_: str, want: Any, have: Any) -> bool:
    if field_ in ("location",):
        return have is not None and [round(c, 7) for c in have["coordinates"][:2]] == want["coordinates"]
    if field_ in ("route", "geometry"):
        try:
            return coords_of(have) == (tuple(tuple(c) for c in want["coordinates"]) if want else None)
        except ValueError:
            return False
    if field_ == "distance_km":
        return _same_float(want, have)
    return want == have


def _diff(values: dict[str, Any], row: Row) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not _same(k, v, row.get(k))}


def build(event: Row, stages: list[Stage], have: Existing) -> Plan:
    planner = _Planner(Plan(event), have)
    for stage in stages:
        sid = planner.stage(stage)
        planner.segments(stage, sid)
        moved = planner.waypoints(stage, sid)
        planner.zones(stage, sid, moved)
    return planner.finish()


class _Planner:
    """Collects the operations per step; `finish()` puts the steps in their safe order."""

    def __init__(self, plan: Plan, have: Existing) -> None:
        self.plan, self.have = plan, have
        self.next_sort = have.max_sort_order + 1
        self.stage_ops: list[Op] = []
        self.segment_ops: list[Op] = []
        self.zone_deletes: list[Op] = []
        self.moves: list[Op] = []  # waypoint updates (moved rows parked at sort_order + OFFSET)
        self.creates: list[Op] = []
        self.zone_ops: list[Op] = []
        self.wp_deletes: list[Op] = []
        self.places: list[Op] = []
        self.seg_deletes: list[Op] = []

    def finish(self) -> Plan:
        by_action = lambda ops: sorted(ops, key=lambda op: op.action)  # noqa: E731  creates, then updates: fewer requests
        self.plan.steps = [
            *by_action(self.stage_ops), *by_action(self.segment_ops), *self.zone_deletes, *self.moves, *self.creates,
            *by_action(self.zone_ops), *self.wp_deletes, *self.places, *self.seg_deletes,
        ]  # fmt: skip
        return self.plan

    def update(self, into: list[Op], collection: str, label: str, row: Row, values: dict[str, Any]) -> None:
        changed = _diff(values, row)
        if changed:
            before = {"id": row["id"], **{k: row.get(k) for k in changed}}
            into.append(Op(collection, "update", label, {"id": row["id"], **changed}, tuple(changed), before=before))
        else:
            self.plan.unchanged[collection] += 1

    def stage(self, stage: Stage) -> str | None:
        """Create or update the stage row; its id (None when it is new)."""
        route = linestring(stage.route) if stage.route else None
        row = self.have.stages.get(stage.name)
        if row is None:
            payload = {"event_id": self.plan.event["id"], "name": stage.name, "sort_order": self.next_sort, "route": route}
            self.stage_ops.append(Op("stages", "create", stage.name, payload, key=(stage.name,)))
            self.next_sort += 1
            return None
        self.plan.ids[Ref("stages", (stage.name,))] = row["id"]
        self.update(self.stage_ops, "stages", stage.name, row, {"route": route})
        return row["id"]

    def segments(self, stage: Stage, sid: str | None) -> None:
        name = stage.name
        for i, seg in enumerate(stage.segments):
            values: dict[str, Any] = {"type": seg.type, "name": seg.name}
            if seg.target_duration_seconds is not None:
                values["target_duration_seconds"] = seg.target_duration_seconds
            row = self.have.segments.get((sid, i))
            label = f"{name} / segment {i} ({seg.name})"
            if row is None:
                payload = {"stage_id": Ref("stages", (name,)), "sort_order": i, **values}
                self.segment_ops.append(Op("segments", "create", label, payload, key=(name, i)))
            else:
                self.plan.ids[Ref("segments", (name, i))] = row["id"]
                self.update(self.segment_ops, "segments", label, row, values)
        for (s_id, i), row in self.have.segments.items():
            if s_id == sid and i >= len(stage.segments):
                self.seg_deletes.append(Op("segments", "delete", f"{name} / segment {i} ({row.get('name')})", row))

    def waypoints(self, stage: Stage, sid: str | None) -> set[str]:
        """Plan the stage's waypoints; the ids of rows whose segment or type changes."""
        name, ids = stage.name, self.plan.ids
        wanted = {wp.code for _, _, wp in stage.waypoints()}
        gone = [w for (s_id, code), w in self.have.waypoints.items() if s_id == sid and code not in wanted]
        held = {(w["segment_id"], w["sort_order"]) for w in gone}  # positions free only once these are deleted
        moved: set[str] = set()
        for s, w, wp in stage.waypoints():
            seg_ref, ref = Ref("segments", (name, s)), Ref("waypoints", (name, wp.code))
            seg_id = ids.get(seg_ref)
            values = {
                "type": wp.type, "location": wp.location, "open_radius_m": wp.open_radius_m,
                "validation_radius_m": wp.validation_radius_m, "distance_km": wp.distance_km, "cap": wp.cap, "danger": wp.danger,
            }  # fmt: skip
            label = f"{name} / {wp.type} {wp.code}"
            row = self.have.waypoints.get((sid, wp.code))
            if row is None:
                parked = seg_id is not None and (seg_id, w) in held
                payload = {"segment_id": seg_ref, "code": wp.code, "sort_order": w + OFFSET if parked else w, **values}
                self.creates.append(Op("waypoints", "create", label, payload, key=(name, wp.code)))
                if parked:
                    self.places.append(
                        Op(
                            "waypoints",
                            "place",
                            label,
                            {"id": ref, "sort_order": w},
                            before={"id": ref, "sort_order": w + OFFSET},
                        )
                    )
                continue
            ids[ref] = row["id"]
            changed = _diff(values, row)
            if seg_id != row["segment_id"]:
                changed["segment_id"] = seg_ref
            if seg_id != row["segment_id"] or w != row["sort_order"]:
                changed["sort_order"] = w + OFFSET
                place = Op(
                    "waypoints",
                    "place",
                    label,
                    {"id": row["id"], "sort_order": w},
                    before={"id": row["id"], "sort_order": w + OFFSET},
                )
                self.places.append(place)
            if {"segment_id", "type"} & changed.keys():
                moved.add(row["id"])
            if changed:
                before = {"id": row["id"], **{k: row.get(k) for k in changed}}
                self.moves.append(Op("waypoints", "update", label, {"id": row["id"], **changed}, tuple(changed), before=before))
            else:
                self.plan.unchanged["waypoints"] += 1
        self.wp_deletes += [Op("waypoints", "delete", f"{name} / {w['type']} {w['code']}", w) for w in gone]
        return moved

    def zones(self, stage: Stage, sid: str | None, moved: set[str]) -> None:
        name, kept = stage.name, set()
        for s, zone in stage.zones():
            seg_ref = Ref("segments", (name, s))
            label = f"{name} / {zone.name} ({zone.speed_limit_kmh} km/h)"
            values = {"name": zone.name, "geometry": zone.geojson, "speed_limit_kmh": zone.speed_limit_kmh}
            row = self.have.zones.get((sid, zone.dz))
            dz, fz = self.have.waypoints.get((sid, zone.dz)), self.have.waypoints.get((sid, zone.fz))
            if row is not None:
                kept.add(row["id"])
                stable = (
                    dz is not None and fz is not None and row.get("ends_at_waypoint_id") == fz["id"]
                    and row["segment_id"] == self.plan.ids.get(seg_ref) and not {dz["id"], fz["id"]} & moved
                )  # fmt: skip
                if stable:
                    self.update(self.zone_ops, "speed_limit_zones", label, row, values)
                    continue
                # its segment, DZ or FZ changes: deleted first and re-created last, so no rule sees it half-moved
                self.zone_deletes.append(Op("speed_limit_zones", "delete", label + " (re-created)", row))
            refs = {
                "starts_at_waypoint_id": Ref("waypoints", (name, zone.dz)),
                "ends_at_waypoint_id": Ref("waypoints", (name, zone.fz)),
            }
            payload = {"segment_id": seg_ref, **values, **refs}
            self.zone_ops.append(Op("speed_limit_zones", "create", label, payload, key=(name, zone.dz)))
        for (s_id, _), row in self.have.zones.items():
            if s_id == sid and row["id"] not in kept:
                self.zone_deletes.append(Op("speed_limit_zones", "delete", f"{name} / {row.get('name')}", row))
