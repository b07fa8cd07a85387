"""OpenRally GPX v1.0.3 writer (metric): a stage back to the file navigation tools read.

The inverse of gpx.py + segments.py: consecutive waypoints at the same location share one <wpt>;
each waypoint becomes its element (DSS → dss, ASS → ass, DZ → dz with the zone's limit in
<openrally:speed>, FZ → fz, WPx → wpx, CP → checkpoint) with `name` (omitted when it is the code
the importer would generate), `open` and `clear`. A TC becomes the marker its place in the
segments needs: first of a liaison → dt, first of a neutralization → neutralization (text: target
seconds), last of a liaison → ft, last of a neutralization → fn, first of a segment with a target
duration → timecontrol allowed="minutes", otherwise timecontrol. The route is one <trk>.

`check()` reads the written text back and lists what would come back different (a course edited
in the UI into a shape OpenRally cannot express, e.g. a zone drawn by hand, a parc-fermé segment).
"""

from __future__ import annotations

from collections import Counter
from xml.sax.saxutils import escape, quoteattr

from . import gpx as gpx_mod
from . import segments
from .document import Segment, Stage, Waypoint, differences

ELEMENT = {"DSS": "dss", "ASS": "ass", "DZ": "dz", "FZ": "fz", "CP": "checkpoint"}


def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _tc_element(segment: Segment, i: int) -> tuple[str, str, list[str]]:
    """(element, its text, further elements) for the TC at position i of the segment."""
    first, last = i == 0, i == len(segment.waypoints) - 1
    target = segment.target_duration_seconds
    allowed = [f'<openrally:timecontrol allowed="{_num(target / 60, 4)}"/>'] if target else []
    if first and segment.type == "neutralization":
        return "neutralization", str(target) if target else "", []
    if first and segment.type == "liaison":
        return "dt", "", allowed
    if first and target:
        return "timecontrol", "", []
    if last and segment.type == "liaison":
        return "ft", "", []
    if last and segment.type == "neutralization":
        return "fn", "", []
    return "timecontrol", "", []


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
    lines = [
        f'  <wpt lat="{_num(head.lat, 7)}" lon="{_num(head.lon, 7)}">',
        f"    <name>{escape(head.code)}</name>",
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
        counters[wp.type] += 1
        text, attrs, extra = "", {}, []
        if wp.type == "TC":
            element, text, extra = _tc_element(stage.segments[s], w)
            if element == "timecontrol" and w == 0 and stage.segments[s].target_duration_seconds:
                attrs = {"allowed": _num(stage.segments[s].target_duration_seconds / 60, 4)}
        else:
            element = ELEMENT.get(wp.type, wp.type.lower())
        named = {} if wp.code == f"{wp.type}{counters[wp.type]}" else {"name": wp.code}
        radii = {k: str(v) for k, v in (("open", wp.open_radius_m), ("clear", wp.validation_radius_m)) if v is not None}
        rendered = "".join(f" {k}={quoteattr(v)}" for k, v in {**named, **radii, **attrs}.items())
        lines.append(
            f"      <openrally:{element}{rendered}>{escape(text)}</openrally:{element}>"
            if text
            else f"      <openrally:{element}{rendered}/>"
        )
        lines.extend(f"      {e}" for e in extra)
        if wp.type == "DZ" and wp.code in speeds:
            lines.append(f"      <openrally:speed>{speeds[wp.code]}</openrally:speed>")
    lines.extend(["    </extensions>", "  </wpt>"])
    return lines


def check(stage: Stage, text: str) -> list[str]:
    """What importing `text` would give differently from `stage` (empty: a faithful export)."""
    back, parsed = segments.read(text.encode(), "export", stage.name)
    return [*parsed.problems.lines(), *differences(stage, back)]
