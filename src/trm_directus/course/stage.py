"""The course document: one stage as segments, waypoints and speed zones, independent of GPX and Directus.

Coordinates are (lon, lat) like GeoJSON, rounded to 7 decimals (about 1 cm) so that they survive
PostGIS and GPX text unchanged; odometer distances are km rounded to 3 decimals (1 m). Sort orders
are positions: a segment's sort_order is its index in the stage, a waypoint's its index in the
segment. Equality ignores where a value came from (source line, source <wpt>), so a document read
back from Directus or from an exported file compares equal to the one imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Validated in sequence: how close counts as passed (validation radius), one after the other, so the
# validation radii of consecutive ones must not overlap. The other types only delimit: a speed zone
# (DZ/FZ: the radius is the acceleration/deceleration distance), a liaison (DT/FT), a neutralization
# (SN/FN) or a time control (TC): the radius is the control area where arrival is timed.
VALIDATED_IN_SEQUENCE = frozenset({"DSS", "ASS", "WPV", "WPM", "WPE", "WPS", "WPC", "WPN", "WPP", "CP"})
DELIMITERS = frozenset({"DZ", "FZ", "DT", "FT", "SN", "FN", "TC"})
TIME_CONTROLS = ("DT", "FT", "SN", "FN", "TC")  # all time controls: generated codes TC1, TC2 … across them
SEGMENT_TYPES = ("liaison", "special-stage", "parc-ferme", "neutralization")
SEGMENT_LABELS = {
    "liaison": "Liaison",
    "special-stage": "Special stage",
    "parc-ferme": "Parc fermé",
    "neutralization": "Neutralization",
}
COORD_DECIMALS = 7
KM_DECIMALS = 3
CODE_MAX = 20
STAGE_NAME_MAX = 120
SPEED_RANGE = (5, 250)  # speed_limit_zones.speed_limit_kmh

Coord = tuple[float, float]


def coord(lon: float, lat: float) -> Coord:
    return (round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS))


@dataclass(frozen=True)
class Waypoint:
    code: str
    type: str
    lon: float
    lat: float
    open_radius_m: int | None = None
    validation_radius_m: int | None = None
    distance_km: float | None = None
    cap: int | None = None
    danger: int | None = None
    line: int = field(default=0, compare=False)  # source line (0: not from a file)
    group: int = field(default=-1, compare=False)  # index of the source <wpt>: one point may carry several waypoints

    @property
    def location(self) -> dict[str, Any]:
        return {"type": "Point", "coordinates": list(coord(self.lon, self.lat))}


@dataclass(frozen=True)
class SpeedZone:
    dz: str  # code of its DZ waypoint (the zone's natural key within the stage)
    fz: str  # code of its FZ waypoint
    speed_limit_kmh: int
    geometry: tuple[Coord, ...]  # LineString corridor along the route from DZ to FZ
    line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        return f"{self.dz} → {self.fz}"

    @property
    def geojson(self) -> dict[str, Any]:
        return linestring(self.geometry)


@dataclass
class Segment:
    type: str
    waypoints: list[Waypoint] = field(default_factory=list)
    zones: list[SpeedZone] = field(default_factory=list)
    target_duration_seconds: int | None = None

    @property
    def name(self) -> str:
        label = SEGMENT_LABELS.get(self.type, self.type)
        if not self.waypoints:
            return label
        return f"{label} {self.waypoints[0].code} → {self.waypoints[-1].code}"


@dataclass
class Stage:
    name: str
    segments: list[Segment] = field(default_factory=list)
    route: tuple[Coord, ...] | None = None
    line: int = field(default=0, compare=False)

    def waypoints(self) -> Iterator[tuple[int, int, Waypoint]]:
        """(segment sort_order, waypoint sort_order, waypoint) in course order."""
        for s, segment in enumerate(self.segments):
            for w, wp in enumerate(segment.waypoints):
                yield s, w, wp

    def zones(self) -> Iterator[tuple[int, SpeedZone]]:
        for s, segment in enumerate(self.segments):
            for zone in segment.zones:
                yield s, zone

    def counts(self) -> dict[str, int]:
        return {
            "segments": len(self.segments),
            "waypoints": sum(len(s.waypoints) for s in self.segments),
            "speed zones": sum(len(s.zones) for s in self.segments),
            "route points": len(self.route or ()),
        }


def linestring(coords: tuple[Coord, ...] | list[Coord]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def coords_of(geojson: dict[str, Any] | None) -> tuple[Coord, ...] | None:
    """A GeoJSON LineString's coordinates as rounded (lon, lat) pairs; None for no geometry."""
    if not geojson:
        return None
    if geojson.get("type") != "LineString":
        raise ValueError(f"expected a LineString, got {geojson.get('type')}")
    return tuple(coord(c[0], c[1]) for c in geojson["coordinates"])


def differences(a: Stage, b: Stage) -> list[str]:
    """What differs between two versions of a stage, one line each (empty when equal)."""
    out: list[str] = []
    if a.name != b.name:
        out.append(f"stage name: {a.name!r} → {b.name!r}")
    if a.route != b.route:
        out.append(f"route: {len(a.route or ())} → {len(b.route or ())} points (or their coordinates)")
    if len(a.segments) != len(b.segments):
        out.append(f"segments: {[s.type for s in a.segments]} → {[s.type for s in b.segments]}")
    for i, (sa, sb) in enumerate(zip(a.segments, b.segments, strict=False)):
        for attr in ("type", "target_duration_seconds"):
            if getattr(sa, attr) != getattr(sb, attr):
                out.append(f"segment {i} {attr}: {getattr(sa, attr)!r} → {getattr(sb, attr)!r}")
        if [w.code for w in sa.waypoints] != [w.code for w in sb.waypoints]:
            out.append(f"segment {i} waypoints: {[w.code for w in sa.waypoints]} → {[w.code for w in sb.waypoints]}")
        else:
            for wa, wb in zip(sa.waypoints, sb.waypoints, strict=True):
                if wa != wb:
                    fields = [
                        f for f in wa.__dataclass_fields__ if getattr(wa, f) != getattr(wb, f) and f not in ("line", "group")
                    ]
                    out.append(
                        f"waypoint {wa.code}: " + ", ".join(f"{f} {getattr(wa, f)!r} → {getattr(wb, f)!r}" for f in fields)
                    )
        za, zb = {z.dz: z for z in sa.zones}, {z.dz: z for z in sb.zones}
        for dz in sorted(za.keys() | zb.keys()):
            if za.get(dz) != zb.get(dz):
                what = "missing" if dz not in zb else "new" if dz not in za else "differs (limit, FZ or geometry)"
                out.append(f"speed zone {dz}: {what}")
    return out
