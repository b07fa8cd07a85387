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

from .document import Stage, coords_of, linestring
from .remote import Existing, Row

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
    plan = Plan(event)
    early: list[Op] = []  # stages
    segment_ops: list[Op] = []
    zone_deletes: list[Op] = []
    moves: list[Op] = []
    creates: list[Op] = []
    zone_ops: list[Op] = []
    wp_deletes: list[Op] = []
    places: list[Op] = []
    seg_deletes: list[Op] = []
    next_sort = have.max_sort_order + 1
    for stage in stages:
        name = stage.name
        route = linestring(stage.route) if stage.route else None
        row = have.stages.get(name)
        stage_ref = Ref("stages", (name,))
        sid = row["id"] if row else None
        if row is None:
            payload = {"event_id": event["id"], "name": name, "sort_order": next_sort, "route": route}
            early.append(Op("stages", "create", name, payload, key=(name,)))
            next_sort += 1
        else:
            plan.ids[stage_ref] = sid
            _update(plan, early, "stages", name, row, {"route": route})
        # segments
        for i, seg in enumerate(stage.segments):
            ref = Ref("segments", (name, i))
            values = {"type": seg.type, "name": seg.name}
            if seg.target_duration_seconds is not None:
                values["target_duration_seconds"] = seg.target_duration_seconds
            srow = have.segments.get((sid, i))
            label = f"{name} / segment {i} ({seg.name})"
            if srow is None:
                segment_ops.append(
                    Op("segments", "create", label, {"stage_id": stage_ref, "sort_order": i, **values}, key=(name, i))
                )
            else:
                plan.ids[ref] = srow["id"]
                _update(plan, segment_ops, "segments", label, srow, values)
        for (s_id, i), srow in have.segments.items():
            if s_id == sid and i >= len(stage.segments):
                seg_deletes.append(Op("segments", "delete", f"{name} / segment {i} ({srow.get('name')})", srow))
        # waypoints
        wanted = {wp.code for _, _, wp in stage.waypoints()}
        gone = [w for (s_id, code), w in have.waypoints.items() if s_id == sid and code not in wanted]
        held = {(w["segment_id"], w["sort_order"]) for w in gone}
        wp_segment: dict[str, Any] = {}
        for s, w, wp in stage.waypoints():
            seg_ref = Ref("segments", (name, s))
            seg_id = plan.ids.get(seg_ref)
            values = {
                "type": wp.type, "location": wp.location, "open_radius_m": wp.open_radius_m,
                "validation_radius_m": wp.validation_radius_m, "distance_km": wp.distance_km, "cap": wp.cap, "danger": wp.danger,
            }  # fmt: skip
            label = f"{name} / {wp.type} {wp.code}"
            wrow = have.waypoints.get((sid, wp.code))
            wp_segment[wp.code] = seg_id
            if wrow is None:
                parked = seg_id is not None and (seg_id, w) in held
                payload = {"segment_id": seg_ref, "code": wp.code, "sort_order": w + OFFSET if parked else w, **values}
                creates.append(Op("waypoints", "create", label, payload, key=(name, wp.code)))
                if parked:
                    ref = Ref("waypoints", (name, wp.code))
                    places.append(
                        Op(
                            "waypoints",
                            "place",
                            label,
                            {"id": ref, "sort_order": w},
                            before={"id": ref, "sort_order": w + OFFSET},
                        )
                    )
                continue
            plan.ids[Ref("waypoints", (name, wp.code))] = wrow["id"]
            changed = _diff(values, wrow)
            if seg_id != wrow["segment_id"]:
                changed["segment_id"] = seg_ref
            if seg_id != wrow["segment_id"] or w != wrow["sort_order"]:
                changed["sort_order"] = w + OFFSET
                place = {"id": wrow["id"], "sort_order": w}
                places.append(Op("waypoints", "place", label, place, before={"id": wrow["id"], "sort_order": w + OFFSET}))
            if changed:
                before = {"id": wrow["id"], **{k: wrow.get(k) for k in changed}}
                moves.append(Op("waypoints", "update", label, {"id": wrow["id"], **changed}, tuple(changed), before=before))
            else:
                plan.unchanged["waypoints"] += 1
        wp_deletes += [Op("waypoints", "delete", f"{name} / {w['type']} {w['code']}", w) for w in gone]
        # speed zones
        moved = {op.payload["id"] for op in moves if {"segment_id", "type"} & set(op.changed)}
        kept: set[str] = set()
        for s, zone in stage.zones():
            seg_ref = Ref("segments", (name, s))
            label = f"{name} / {zone.name} ({zone.speed_limit_kmh} km/h)"
            values = {"name": zone.name, "geometry": zone.geojson, "speed_limit_kmh": zone.speed_limit_kmh}
            zrow = have.zones.get((sid, zone.dz))
            fz = have.waypoints.get((sid, zone.fz))
            dz = have.waypoints.get((sid, zone.dz))
            stable = (
                zrow is not None and fz is not None and dz is not None and zrow.get("ends_at_waypoint_id") == fz["id"]
                and zrow["segment_id"] == plan.ids.get(seg_ref) and not {dz["id"], fz["id"]} & moved
            )  # fmt: skip
            if zrow is not None:
                kept.add(zrow["id"])
            if stable:
                _update(plan, zone_ops, "speed_limit_zones", label, zrow, values)
                continue
            if zrow is not None:  # its segment or FZ changed: re-created, so no rule sees it half-moved
                zone_deletes.append(Op("speed_limit_zones", "delete", label + " (re-created)", zrow))
            refs = {
                "starts_at_waypoint_id": Ref("waypoints", (name, zone.dz)),
                "ends_at_waypoint_id": Ref("waypoints", (name, zone.fz)),
            }
            zone_ops.append(
                Op("speed_limit_zones", "create", label, {"segment_id": seg_ref, **values, **refs}, key=(name, zone.dz))
            )
        for (s_id, _dz_code), zrow in have.zones.items():
            if s_id == sid and zrow["id"] not in kept:
                zone_deletes.append(Op("speed_limit_zones", "delete", f"{name} / {zrow.get('name')}", zrow))
    segment_ops.sort(key=lambda op: op.action)  # creates, then updates
    plan.steps = [*early, *segment_ops, *zone_deletes, *moves, *creates, *zone_ops, *wp_deletes, *places, *seg_deletes]
    return plan


def _update(plan: Plan, into: list[Op], collection: str, label: str, row: Row, values: dict[str, Any]) -> None:
    changed = _diff(values, row)
    if changed:
        before = {"id": row["id"], **{k: row.get(k) for k in changed}}
        into.append(Op(collection, "update", label, {"id": row["id"], **changed}, tuple(changed), before=before))
    else:
        plan.unchanged[collection] += 1
