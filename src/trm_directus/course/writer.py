"""OpenRally GPX v1.0.3 writer (metric): a stage back to the file navigation tools read.

The inverse of gpx.py + segments.py, and valid against the official schema (openrally.xsd v1.0.3
with GPX 1.1 strict): consecutive waypoints at the same location share one <wpt>; each waypoint
becomes its element (DSS → dss, ASS → ass, DZ → dz with the zone's limit in <openrally:speed>, FZ →
fz, WPx → wpx, CP → checkpoint, DT → dt, FT → ft, SN → neutralization, FN → fn, TC → timecontrol)
with `name` (omitted when it is the code the importer would generate), `open` and `clear`.
A segment's target duration is written where the importer reads it: the text of its SN
(seconds), else `allowed` (whole minutes) on its opening TC, or a `timecontrol allowed` beside its
DT. The schema gives `neutralization` and `timecontrol` no attributes but that one: an SN's or a
TC's code is the <wpt>'s <name>, its radii are left to the event's defaults. The route is one <trk>.

`check()` reads the written text back and lists what would come back different: what OpenRally
cannot say (an SN's or TC's own radii, a target that is no whole number of minutes or has no time
control to carry it, a parc-fermé segment, a zone drawn by hand in the UI).
"""

from __future__ import annotations

from collections import Counter
from xml.sax.saxutils import escape, quoteattr

from . import gpx as gpx_mod
from . import segments, validate
from .stage import TIME_CONTROLS, Segment, Stage, Waypoint, differences

ELEMENT = {
    "DSS": "dss", "ASS": "ass", "DZ": "dz", "FZ": "fz", "CP": "checkpoint",
    "DT": "dt", "FT": "ft", "SN": "neutralization", "FN": "fn", "TC": "timecontrol",
}  # fmt: skip


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _target_carrier(segment: Segment) -> int | None:
    """Index of the waypoint that states the segment's target duration: a DT, SN or TC at its first point."""
    if not segment.target_duration_seconds or not segment.waypoints:
        return None
    first = segment.waypoints[0]
    for i, wp in enumerate(segment.waypoints):
        if (wp.lon, wp.lat) != (first.lon, first.lat):
            break
        if wp.type in ("DT", "SN", "TC"):
            return i
    return None


def write(stage: Stage) -> str:
    speeds = {zone.dz: zone.speed_limit_kmh for _, zone in stage.zones()}
    counters: Counter[str] = Counter()
    flat = list(stage.waypoints())
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gpx xmlns="{gpx_mod.GPX11}" xmlns:openrally="{gpx_mod.CURRENT}" version="1.1" creator="trm-directus course-export">',
        "  <metadata>",
        f"    <name>{escape(stage.name)}</name>",
        "    <extensions>",
        "      <openrally:units>metric</openrally:units>",
        "    </extensions>",
        "  </metadata>",
    ]
    i = 0
    while i < len(flat):
        j = i
        while j + 1 < len(flat) and (flat[j + 1][2].lon, flat[j + 1][2].lat) == (flat[i][2].lon, flat[i][2].lat):
            j += 1
        out.extend(_wpt([flat[k] for k in range(i, j + 1)], stage, speeds, counters))
        i = j + 1
    if stage.route:
        out.append(f"  <trk>\n    <name>{escape(stage.name)}</name>\n    <trkseg>")
        out.extend(f'      <trkpt lat="{_num(lat, 7)}" lon="{_num(lon, 7)}"/>' for lon, lat in stage.route)
        out.append("    </trkseg>\n  </trk>")
    out.append("</gpx>\n")
    return "\n".join(out)


def _wpt(cluster: list[tuple[int, int, Waypoint]], stage: Stage, speeds: dict[str, int], counters: Counter[str]) -> list[str]:
    head = cluster[0][2]
    label = next((wp.code for _, _, wp in cluster if wp.type in gpx_mod.UNNAMED), head.code)
    lines = [
        f'  <wpt lat="{_num(head.lat, 7)}" lon="{_num(head.lon, 7)}">',
        f"    <name>{escape(label)}</name>",
        "    <extensions>",
    ]
    distance = next((wp.distance_km for _, _, wp in cluster if wp.distance_km is not None), None)
    cap = next((wp.cap for _, _, wp in cluster if wp.cap is not None), None)
    danger = next((wp.danger for _, _, wp in cluster if wp.danger is not None), None)
    if distance is not None:
        lines.append(f"      <openrally:distance>{_num(distance, 3)}</openrally:distance>")
    if cap is not None:
        lines.append(f"      <openrally:cap>{cap}</openrally:cap>")
    if danger is not None:
        lines.append(f"      <openrally:danger>{danger}</openrally:danger>")
    for s, w, wp in cluster:
        lines.extend(f"      {e}" for e in _elements(wp, stage.segments[s], w, counters))
        if wp.type == "DZ" and wp.code in speeds:
            lines.append(f"      <openrally:speed>{speeds[wp.code]}</openrally:speed>")
    lines.extend(["    </extensions>", "  </wpt>"])
    return lines


def _elements(wp: Waypoint, segment: Segment, w: int, counters: Counter[str]) -> list[str]:
    """The waypoint's element, and the `timecontrol allowed` of a DT that carries its segment's target."""
    family = "TC" if wp.type in TIME_CONTROLS else wp.type
    counters[family] += 1
    element = ELEMENT.get(wp.type, wp.type.lower())
    target = segment.target_duration_seconds if _target_carrier(segment) == w else None
    minutes = round(target / 60) if target and target >= 60 else None
    if wp.type == "SN":  # the text is the duration in seconds; 0 (no duration) reads back as none
        return [f"<openrally:{element}>{target or 0}</openrally:{element}>"]
    if wp.type == "TC":
        return [f'<openrally:{element} allowed="{minutes}"/>' if minutes else f"<openrally:{element}/>"]
    named = {} if wp.code == f"{family}{counters[family]}" else {"name": wp.code}
    radii = {k: str(v) for k, v in (("open", wp.open_radius_m), ("clear", wp.validation_radius_m)) if v is not None}
    rendered = "".join(f" {k}={quoteattr(v)}" for k, v in {**named, **radii}.items())
    extra = [f'<openrally:timecontrol allowed="{minutes}"/>'] if wp.type == "DT" and minutes else []
    return [f"<openrally:{element}{rendered}/>", *extra]


def check(stage: Stage, text: str, defaults: validate.Defaults) -> list[str]:
    """What importing `text` into an event with these radius defaults would give differently from
    `stage` (empty: a faithful export)."""
    back, parsed = segments.read(text.encode(), "export", stage.name)
    validate.resolve(back, defaults, parsed.problems)
    return [*parsed.problems.lines(), *differences(stage, back)]
