"""The course as Directus holds it: the event, its radius defaults, and a stage's rows — one GET each.

Rows are read per collection for all the stages concerned at once (segments by stage, waypoints
and speed zones through their segment's stage), and indexed by natural key: stage name; (stage
id, segment sort_order); (stage id, waypoint code); (stage id, code of the zone's DZ waypoint).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..directus.api import Directus
from ..errors import CourseError
from .stage import Segment, SpeedZone, Stage, Waypoint, coords_of
from .validate import Defaults

Row = dict[str, Any]


def find_event(api: Directus, ref: str) -> Row:
    """The event named by `slug` or `organization-slug/slug`."""
    org, _, slug = ref.rpartition("/")
    query: dict[str, Any] = {"slug": {"_eq": slug}}
    if org:
        query["organization_id"] = {"slug": {"_eq": org}}
    found = api.get("/items/events", filter=query, fields="id,slug,name,organization_id.slug", limit=-1)
    if not found:
        raise CourseError(f"no event {ref!r} in Directus at {api.url}", "check the slug (events.slug), or seed the event first")
    if len(found) > 1:
        orgs = ", ".join(f"{e['organization_id']['slug']}/{slug}" for e in found)
        raise CourseError(f"the event slug {slug!r} is used by {len(found)} organisations", f"name one: --event {orgs}")
    return found[0]


def radius_defaults(api: Directus, event_id: str) -> Defaults:
    rows = api.get(
        "/items/waypoint_radius_defaults",
        filter={"event_id": {"_eq": event_id}},
        fields="waypoint_type,open_radius_m,validation_radius_m",
        limit=-1,
    )
    return {r["waypoint_type"]: (r["open_radius_m"], r["validation_radius_m"]) for r in rows}


@dataclass
class Existing:
    stages: dict[str, Row] = field(default_factory=dict)  # name -> row (with route)
    max_sort_order: int = -1  # of every stage of the event
    segments: dict[tuple[str, int], Row] = field(default_factory=dict)
    waypoints: dict[tuple[str, str], Row] = field(default_factory=dict)
    zones: dict[tuple[str, str], Row] = field(default_factory=dict)
    unkeyed_zones: list[Row] = field(default_factory=list)  # zones without a DZ waypoint (made in the UI)
    waypoint_by_id: dict[str, Row] = field(default_factory=dict)
    segment_by_id: dict[str, Row] = field(default_factory=dict)


def existing(api: Directus, event_id: str, names: list[str]) -> Existing:
    out = Existing()
    all_stages = api.get("/items/stages", filter={"event_id": {"_eq": event_id}}, fields="id,name,sort_order", limit=-1)
    out.max_sort_order = max((s["sort_order"] for s in all_stages), default=-1)
    ids = [s["id"] for s in all_stages if s["name"] in names]
    if not ids:
        return out
    for row in api.get("/items/stages", filter={"id": {"_in": ids}}, fields="id,name,sort_order,route", limit=-1):
        out.stages[row["name"]] = row
    by_stage = {"segment_id": {"stage_id": {"_in": ids}}}
    with ThreadPoolExecutor(3) as pool:  # independent reads: let Directus and PostgreSQL overlap them
        segments, waypoints, zones = pool.map(
            lambda args: api.get(args[0], filter=args[1], fields="*", limit=-1),
            [
                ("/items/segments", {"stage_id": {"_in": ids}}),
                ("/items/waypoints", by_stage),
                ("/items/speed_limit_zones", by_stage),
            ],
        )
    for row in segments:
        out.segments[(row["stage_id"], row["sort_order"])] = row
        out.segment_by_id[row["id"]] = row
    for row in waypoints:
        stage_id = out.segment_by_id[row["segment_id"]]["stage_id"]
        out.waypoints[(stage_id, row["code"])] = row
        out.waypoint_by_id[row["id"]] = row
    for row in zones:
        dz = out.waypoint_by_id.get(row.get("starts_at_waypoint_id") or "")
        if dz is None:
            out.unkeyed_zones.append(row)
        else:
            out.zones[(out.segment_by_id[row["segment_id"]]["stage_id"], dz["code"])] = row
    return out


def stage_document(api: Directus, event: Row, name: str) -> tuple[Stage, list[str]]:
    """A stage as a course document (for export), with warnings about what the document leaves out."""
    have = existing(api, event["id"], [name])
    row = have.stages.get(name)
    if row is None:
        raise CourseError(f"event {event['slug']!r} has no stage named {name!r}", "check --stage (stages.name)")
    warnings: list[str] = []
    segments = sorted((s for (sid, _), s in have.segments.items() if sid == row["id"]), key=lambda s: s["sort_order"])
    stage = Stage(name, route=coords_of(row.get("route")))
    index = {}
    for seg_row in segments:
        index[seg_row["id"]] = Segment(seg_row["type"], target_duration_seconds=seg_row.get("target_duration_seconds"))
        stage.segments.append(index[seg_row["id"]])
    for wp in sorted(have.waypoint_by_id.values(), key=lambda w: w["sort_order"]):
        lon, lat = wp["location"]["coordinates"][:2]
        index[wp["segment_id"]].waypoints.append(
            Waypoint(
                wp["code"],
                wp["type"],
                round(lon, 7),
                round(lat, 7),
                wp.get("open_radius_m"),
                wp.get("validation_radius_m"),
                None if wp.get("distance_km") is None else round(float(wp["distance_km"]), 3),
                wp.get("cap"),
                wp.get("danger"),
            )
        )
    for zone in [*have.zones.values(), *have.unkeyed_zones]:
        dz = have.waypoint_by_id.get(zone.get("starts_at_waypoint_id") or "")
        fz = have.waypoint_by_id.get(zone.get("ends_at_waypoint_id") or "")
        if dz is None or fz is None or (zone.get("geometry") or {}).get("type") != "LineString":
            warnings.append(f"speed zone {zone.get('name')!r} has no DZ/FZ waypoint or is not a LineString: not exported")
            continue
        index[zone["segment_id"]].zones.append(
            SpeedZone(dz["code"], fz["code"], zone["speed_limit_kmh"], coords_of(zone["geometry"]) or ())
        )
    for segment in stage.segments:
        segment.zones.sort(key=lambda z: [w.code for w in segment.waypoints].index(z.dz))
    return stage, warnings
