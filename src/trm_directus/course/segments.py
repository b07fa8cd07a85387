"""From OpenRally points to a stage: segments, waypoint codes and order, speed zones.

Segments. A stage is cut into segments by the points that open or close one, in file order:
  - `dss` opens a special stage, `ass` closes it (the DSS is its first waypoint, the ASS its last);
  - `dt` opens a liaison (transfer), `ft` closes it;
  - `neutralization` opens a neutralization (its text, seconds, is the segment's target duration),
    `fn` closes it, and the segment type in force before it resumes (a neutralization inside a
    special stage splits it into special stage → neutralization → special stage);
  - a `timecontrol` with `allowed` opens a new segment of the type in force, whose target duration
    is `allowed` minutes;
  - after `ass` or `ft` a new liaison begins with the next waypoint; before any marker the stage
    is a liaison. So the usual stage is liaison (start → DSS), special stage (DSS → ASS), liaison
    (after ASS). Parc-fermé segments have no OpenRally element: they are made in the admin UI.
Inside one point, waypoints are ordered FZ, other waypoints, closing marker | opening marker, DZ
(the other waypoints follow the opening marker when there is one), so a zone ending at a point that
starts the next one, or a neutralization with a speed limit, fall in the right segment. A point that
opens and closes the same kind of segment (dss + ass) ends the one in progress and starts the next;
when none of that kind is in progress, it is a segment of its own at that point (FZ, opening
marker, DZ, other waypoints, closing marker).

Codes: the marker's `name` (the WP number); for an SN or TC (whose elements cannot carry a name)
the <wpt>'s <name> unless it is longer than a code or already used; else the type and its ordinal
in the stage (DZ1, FZ1 …), which stays stable when other types are edited. Every time control (DT,
FT, SN, FN, TC) counts as TC: TC1, TC2 … in course order, the codes earlier imports gave them.
Speed zones: each DZ with the next FZ of the same segment; limit from the DZ; geometry a LineString
from the DZ along the route (the route points between those nearest to the DZ and the FZ) to the
FZ — straight DZ → FZ without a route; named "DZ1 → FZ1".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from . import geo
from . import gpx as gpx_mod
from .gpx import CONTINUE, Gpx, Mark, Point
from .stage import CODE_MAX, SPEED_RANGE, TIME_CONTROLS, Segment, SpeedZone, Stage, Waypoint


def read(data: bytes, origin: str, stage_name: str | None = None) -> tuple[Stage, Gpx]:
    """File bytes → (stage, the parsed file with every problem found so far)."""
    parsed = gpx_mod.read(data, origin)
    return build(parsed, stage_name), parsed


def build(gpx: Gpx, stage_name: str | None = None) -> Stage:
    """The stage a parsed file describes; problems are added to `gpx.problems`."""
    b = _Builder(gpx)
    stage = Stage(stage_name or gpx.name or Path(gpx.origin).stem, route=tuple(gpx.track) or None, line=gpx.name_line)
    b.stage = stage
    for p in gpx.points:
        b.point(p)
    if b.current is not None and b.current.type in ("special-stage", "neutralization") and b.opened_by:
        what = "ASS" if b.current.type == "special-stage" else "fn (end of neutralization)"
        b.problem(b.opened_line, f"the {b.current.type} opened here by {b.opened_by} is never closed: no {what} after it")
    link_zones(stage, b.speeds, b.problem)
    return stage


class _Builder:
    def __init__(self, gpx: Gpx) -> None:
        self.gpx = gpx
        self.stage: Stage
        self.current: Segment | None = None
        self.opened_line = 0
        self.opened_by = ""
        self.next_type = "liaison"
        self.resume: list[str] = []
        self.counters: Counter[str] = Counter()
        self.speeds: dict[str, int | None] = {}
        self.codes: set[str] = set()

    def problem(self, line: int, message: str) -> None:
        self.gpx.problems.add(line, message)

    def ensure(self) -> Segment:
        if self.current is None:
            self.current = Segment(self.next_type)
            self.stage.segments.append(self.current)
            self.opened_by = ""
        return self.current

    def waypoint(self, p: Point, m: Mark) -> Waypoint:
        family = "TC" if m.type in TIME_CONTROLS else m.type
        self.counters[family] += 1
        label = m.label if m.label and len(m.label) <= CODE_MAX and m.label not in self.codes else None
        code = m.name or label or f"{family}{self.counters[family]}"
        self.codes.add(code)
        if m.type == "DZ":
            self.speeds[code] = p.speed_kmh
        return Waypoint(code, m.type, p.lon, p.lat, m.open_m, m.clear_m, p.distance_km, p.cap, p.danger, m.line, p.index)

    def point(self, p: Point) -> None:
        by = {t: [m for m in p.marks if m.type == t] for t in ("DSS", "ASS", "DZ", "FZ", "DT", "FT", "SN", "FN", "TC")}
        start = by["DSS"] + by["DT"] + by["SN"] + (by["TC"] if p.opens == CONTINUE else [])
        end = by["FT"] + by["FN"] + by["ASS"]
        others = [m for m in p.marks if m.type not in ("DZ", "FZ") and m not in start + end]
        before = by["FZ"] + ([] if p.opens else others) + end
        after = start + by["DZ"] + (others if p.opens else [])
        if p.opens and p.opens == p.closes and (self.current is None or self.current.type != p.closes):
            # it opens and closes a segment that is not in progress (dss + ass, as the standard's
            # example does): a segment at this one point, not the end of one and the start of the next
            self.ensure().waypoints.extend(self.waypoint(p, m) for m in by["FZ"])
            self.open(p)
            self.current.waypoints.extend(self.waypoint(p, m) for m in start + by["DZ"] + others + end)
            self.close(p)
            return
        if before:
            self.ensure().waypoints.extend(self.waypoint(p, m) for m in before)
        if p.closes:
            self.close(p)
        if p.opens:
            self.open(p)
        if after:
            self.ensure().waypoints.extend(self.waypoint(p, m) for m in after)

    def close(self, p: Point) -> None:
        element = next(e for e in p.elements if e in ("ass", "finishspecialstage", "ft", "fn"))
        if self.current is None or self.current.type != p.closes:
            state = f"a {self.current.type} is in progress" if self.current else "nothing is open here"
            self.problem(p.line, f"<openrally:{element}> closes a {p.closes} but {state}")
        self.current = None
        self.next_type = self.resume.pop() if p.closes == "neutralization" and self.resume else "liaison"

    def open(self, p: Point) -> None:
        element = next(e for e in p.elements if e in ("dss", "startspecialstage", "dt", "neutralization", "sn", "timecontrol"))
        in_force = self.current.type if self.current else self.next_type
        kind = in_force if p.opens == CONTINUE else p.opens
        if kind == "special-stage" and self.current is not None and self.current.type == kind and element != "timecontrol":
            self.problem(p.line, f"<openrally:{element}> opens a special stage inside the one opened at line {self.opened_line}"
                         " (missing ASS?)")  # fmt: skip
        if kind == "neutralization":
            self.resume.append(in_force)
        self.current = Segment(kind, target_duration_seconds=p.target_seconds)
        self.stage.segments.append(self.current)
        self.opened_line, self.opened_by = p.line, f"<openrally:{element}>"


def link_zones(stage: Stage, speeds: dict[str, int | None], problem: Callable[[int, str], None]) -> None:
    """Pair each DZ with the next FZ of its segment into the segments' speed zones (limits from
    `speeds`, DZ code → km/h); geometry along the route, searched forward from the previous zone."""
    cursor = 0
    for segment in stage.segments:
        segment.zones = []
        open_dz: Waypoint | None = None
        for wp in segment.waypoints:
            if wp.type == "DZ":
                speed = speeds.get(wp.code)
                if speed is None:
                    problem(wp.line, f"DZ {wp.code} has no speed limit: add <openrally:speed>KM/H</openrally:speed> to its <wpt>")
                elif not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
                    problem(wp.line, f"DZ {wp.code}: speed limit {speed} km/h is outside {SPEED_RANGE[0]}–{SPEED_RANGE[1]} km/h")
                if open_dz is not None:
                    problem(open_dz.line, f"DZ {open_dz.code} has no FZ before the next DZ {wp.code} (line {wp.line})")
                open_dz = wp
            elif wp.type == "FZ":
                if open_dz is None:
                    problem(wp.line, f"FZ {wp.code} has no DZ before it in its segment ({segment.name})")
                    continue
                speed = speeds.get(open_dz.code)
                geometry, cursor = geo.corridor(stage.route, (open_dz.lon, open_dz.lat), (wp.lon, wp.lat), cursor)
                if speed is not None:
                    segment.zones.append(SpeedZone(open_dz.code, wp.code, speed, geometry, open_dz.line))
                open_dz = None
        if open_dz is not None:
            problem(open_dz.line, f"DZ {open_dz.code} has no FZ after it in its segment ({segment.name})")
