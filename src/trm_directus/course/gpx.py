"""OpenRally GPX reader: GPX 1.1 + `openrally:` extensions (every namespace v0.1–v1.0.3) → points.

One <wpt> becomes a `Point` carrying one or more waypoint marks; <wpt>s without a waypoint element
(roadbook notes, tulips, fuel, stop …) are counted and skipped. Element → waypoint type (the XSD's
declared duplicates of older versions included):

  dss, startspecialstage → DSS (opens a special stage)    ass, finishspecialstage → ASS (closes it)
  dz → DZ (speed: `speed` element, `speed` attribute, or the element's text)
  fz, endofzone → FZ     wpm/waypointmasked, wpe/waypointeclipse, wps/waypointsafety, wpv, wpc,
  wpn, wpp → WPM … WPP   checkpoint → CP
  dt / ft → DT / FT: open / close a liaison (transfer)
  neutralization (or sn) / fn → SN / FN: open / close a neutralization (its text: duration, s)
  timecontrol → TC; with `allowed` (minutes to the next time control) it opens a segment. On a
  point with a dt or neutralization (or an ft or fn, when it has no `allowed`) it is that
  marker's time control, not a waypoint of its own.

`openrally:distance` → distance_km, `cap` (0–360, 360 = 0), `danger` (1–3; or the old
onedanger/twodanger/threedanger markers), `name` → the waypoint code, `open`/`clear` → radii.
`timecontrol` and `neutralization` have no attributes for a name or radii in v1.0.3: their code
may come from the <wpt>'s own <name> (`Mark.label`), their radii from the event's defaults.
Units (`metadata/extensions/openrally:units`): metric (km, km/h, m; the default) or statute
(written `statue` by the XSD: miles, mph, yards), converted to metric here. The route is every
<trk>/<trkseg>/<trkpt> in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..documents.validation import Problems
from . import xmltree
from .stage import KM_DECIMALS, Coord, coord

GPX11 = "http://www.topografix.com/GPX/1/1"
GPX10 = "http://www.topografix.com/GPX/1/0"
OPENRALLY_BASE = "http://www.openrally.org/xmlschemas/GpxExtensions/"
VERSIONS = ("v0.1", "v0.2", "v0.3", "v1.0", "v1.0.0", "v1.0.1", "v1.0.2", "v1.0.3")
NAMESPACES = {OPENRALLY_BASE + v for v in VERSIONS}
CURRENT = OPENRALLY_BASE + "v1.0.3"

TYPES = {
    "dss": "DSS", "startspecialstage": "DSS", "ass": "ASS", "finishspecialstage": "ASS",
    "dz": "DZ", "fz": "FZ", "endofzone": "FZ",
    "wpm": "WPM", "waypointmasked": "WPM", "wpe": "WPE", "waypointeclipse": "WPE", "wps": "WPS",
    "waypointsafety": "WPS", "wpv": "WPV", "wpc": "WPC", "wpn": "WPN", "wpp": "WPP", "checkpoint": "CP",
    "dt": "DT", "ft": "FT", "neutralization": "SN", "sn": "SN", "fn": "FN", "timecontrol": "TC",
}  # fmt: skip
UNNAMED = {"SN", "TC"}  # their v1.0.3 elements cannot carry a name: the <wpt>'s <name> may name them
OPENS = {"dss": "special-stage", "startspecialstage": "special-stage", "dt": "liaison", "neutralization": "neutralization",
         "sn": "neutralization"}  # fmt: skip
CLOSES = {"ass": "special-stage", "finishspecialstage": "special-stage", "ft": "liaison", "fn": "neutralization"}
OLD_DANGER = {"onedanger": 1, "twodanger": 2, "threedanger": 3}
MAX_KM = 5000  # waypoints.distance_km
MILE_KM = 1.609344
YARD_M = 0.9144
CONTINUE = "continue"  # a timecontrol with `allowed` opens a segment of the current type


@dataclass
class Mark:
    type: str
    name: str | None
    open_m: int | None
    clear_m: int | None
    line: int
    label: str | None = None  # the <wpt>'s <name>, offered as the code of an SN or TC without a name


@dataclass
class Point:
    index: int
    line: int
    lon: float
    lat: float
    marks: list[Mark] = field(default_factory=list)
    distance_km: float | None = None
    cap: int | None = None
    danger: int | None = None
    speed_kmh: int | None = None
    opens: str | None = None  # segment type this point opens (or CONTINUE)
    closes: str | None = None  # segment type this point closes
    target_seconds: int | None = None  # duration of the segment it opens
    elements: list[str] = field(default_factory=list)  # waypoint element names, for messages


@dataclass
class Gpx:
    origin: str
    problems: Problems
    units: str = "metric"
    name: str | None = None
    name_line: int = 0
    points: list[Point] = field(default_factory=list)
    skipped: int = 0  # <wpt>s without a waypoint element
    track: list[Coord] = field(default_factory=list)
    track_line: int = 0
    namespace: str | None = None
    readable: bool = True  # False: not XML or not GPX 1.1 — nothing further to check


def _number(text: str | None, what: str, line: int, problems: Problems, *, minimum: float | None = None,
            maximum: float | None = None, positive: bool = False) -> float | None:  # fmt: skip
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        problems.add(line, f"{what} must be a number (got {text!r})")
        return None
    if (
        value != value
        or (positive and value <= 0)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        rng = "> 0" if positive else f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        problems.add(line, f"{what} must be {rng} (got {text})")
        return None
    return value


def _location(node: xmltree.Node, problems: Problems) -> tuple[float, float] | None:
    lat = _number(node.attrs.get("lat"), f"<{node.tag}> lat", node.line, problems, minimum=-90, maximum=90)
    lon = _number(node.attrs.get("lon"), f"<{node.tag}> lon", node.line, problems, minimum=-180, maximum=180)
    for attr in ("lat", "lon"):
        if not node.attrs.get(attr, "").strip():
            problems.add(node.line, f"<{node.tag}> has no {attr} attribute")
    return None if lat is None or lon is None else coord(lon, lat)


def read(data: bytes, origin: str) -> Gpx:
    """Parse a file's bytes; every problem is collected in the result's `problems`, nothing raises."""
    gpx = Gpx(origin, Problems(origin))
    try:
        doc = xmltree.parse(data)
    except xmltree.XmlRefused as exc:
        gpx.problems.add(exc.line, f"not a GPX file: {exc.reason}")
        gpx.readable = False
        return gpx
    root = doc.root
    if root.tag != "gpx" or root.ns not in (GPX11, GPX10):
        gpx.problems.add(root.line, f"not a GPX file: the root element is <{root.tag}> in namespace {root.ns or '(none)'!r}")
        gpx.readable = False
        return gpx
    if root.ns == GPX10:
        gpx.problems.add(root.line, "GPX 1.0 has no <extensions>: OpenRally files are GPX 1.1 (" + GPX11 + ")")
        gpx.readable = False
        return gpx
    _check_namespaces(doc.namespaces, gpx)
    _metadata(root, gpx)
    for i, wpt in enumerate(root.all(GPX11, "wpt")):
        point = _point(i, wpt, gpx)
        if point is None:
            gpx.skipped += 1
        else:
            gpx.points.append(point)
    for trk in root.all(GPX11, "trk"):
        gpx.track_line = gpx.track_line or trk.line
        for seg in trk.all(GPX11, "trkseg"):
            for pt in seg.all(GPX11, "trkpt"):
                try:  # the common case, fast: tens of thousands of track points
                    lon, lat = float(pt.attrs["lon"]), float(pt.attrs["lat"])
                    loc = coord(lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None
                except (KeyError, ValueError):
                    loc = None
                loc = loc or _location(pt, gpx.problems)
                if loc is not None:
                    gpx.track.append(loc)
    return gpx


def _check_namespaces(namespaces: dict[str, int], gpx: Gpx) -> None:
    for ns, line in namespaces.items():
        if "openrally" not in ns.lower():
            continue
        if ns in NAMESPACES:
            gpx.namespace = gpx.namespace or ns
        else:
            known = ", ".join(VERSIONS)
            gpx.problems.add(line, f"unknown OpenRally namespace {ns!r} (known: {OPENRALLY_BASE}{{{known}}})")


def _ext(node: xmltree.Node) -> list[xmltree.Node]:
    """The OpenRally elements in a node's <extensions> (any known version)."""
    ext = node.first(GPX11, "extensions")
    return [c for c in ext.children if c.ns in NAMESPACES] if ext is not None else []


def _metadata(root: xmltree.Node, gpx: Gpx) -> None:
    meta = root.first(GPX11, "metadata")
    if meta is not None:
        name = meta.first(GPX11, "name")
        if name is not None and name.text:
            gpx.name, gpx.name_line = name.text, name.line
        for el in _ext(meta):
            if el.tag == "units":
                if el.text in ("statute", "statue"):
                    gpx.units = "statute"
                elif el.text != "metric":
                    gpx.problems.add(el.line, f"openrally:units must be metric or statute (got {el.text!r})")
    if gpx.name is None:
        for trk in root.all(GPX11, "trk"):
            name = trk.first(GPX11, "name")
            if name is not None and name.text:
                gpx.name, gpx.name_line = name.text, name.line
                break


def _point(index: int, wpt: xmltree.Node, gpx: Gpx) -> Point | None:
    elements = _ext(wpt)
    if not any(el.tag in TYPES for el in elements):
        _location(wpt, gpx.problems)  # still report bad coordinates
        return None
    loc = _location(wpt, gpx.problems)
    p = Point(index, wpt.line, *(loc or (0.0, 0.0)))
    statute = gpx.units == "statute"
    problems = gpx.problems
    tc: Mark | None = None
    allowed = None
    for el in elements:
        what = f"openrally:{el.tag}"
        if el.tag == "distance":
            km = _number(el.text, what, el.line, problems, minimum=0)
            p.distance_km = None if km is None else round(km * MILE_KM if statute else km, KM_DECIMALS)
            if p.distance_km is not None and p.distance_km > MAX_KM:
                problems.add(el.line, f"{what} {p.distance_km:g} km is beyond {MAX_KM} km: is it in metres?")
                p.distance_km = None
        elif el.tag == "cap":
            cap = _number(el.text, what, el.line, problems, minimum=0, maximum=360)
            p.cap = None if cap is None else round(cap) % 360
        elif el.tag == "danger":
            if el.text not in ("1", "2", "3"):
                problems.add(el.line, f"{what} must be 1, 2 or 3 (got {el.text!r})")
            else:
                p.danger = int(el.text)
        elif el.tag in OLD_DANGER:
            p.danger = OLD_DANGER[el.tag]
        elif el.tag == "speed":
            p.speed_kmh = _speed(el.text, what, el.line, statute, problems) or p.speed_kmh
        elif el.tag in TYPES:
            p.elements.append(el.tag)
            mark = _mark(el, statute, problems)
            p.opens = OPENS.get(el.tag, p.opens)
            p.closes = CLOSES.get(el.tag, p.closes)
            if el.tag == "dz":
                speed = el.attrs.get("speed") or el.text
                p.speed_kmh = _speed(speed, f"{what} speed", el.line, statute, problems) or p.speed_kmh
            if el.tag in ("neutralization", "sn"):
                secs = _number(el.text, what, el.line, problems, minimum=0)
                p.target_seconds = round(secs) if secs else p.target_seconds
            if el.tag == "timecontrol":
                minutes = _number(el.attrs.get("allowed"), f"{what} allowed", el.line, problems, positive=True)
                allowed = round(minutes * 60) if minutes else None
            if mark.type != "TC":
                p.marks.append(mark)
            elif tc is None:
                tc = mark
            else:  # several timecontrol elements on one point: one time control, named/sized by whichever says so
                _merge(tc, mark)
    hosts = ("DT", "SN") if allowed else ("DT", "SN", "FT", "FN")  # with `allowed`, a TC at an FT/FN opens the next segment
    host = next((m for m in p.marks if m.type in hosts), None)
    if tc is not None:
        if host is not None:  # the time control of the liaison or neutralization this point opens or closes
            _merge(host, tc)
        else:
            p.marks.append(tc)
    label = wpt.first(GPX11, "name")
    unnamed = [m for m in p.marks if m.type in UNNAMED and m.name is None]
    if label is not None and label.text and len(unnamed) == 1 and label.text not in {m.name for m in p.marks}:
        unnamed[0].label = label.text
    if allowed:
        p.target_seconds = p.target_seconds or allowed
        p.opens = p.opens or CONTINUE
    return p if loc is not None else None


def _merge(into: Mark, other: Mark) -> None:
    into.name = into.name or other.name
    into.open_m = into.open_m or other.open_m
    into.clear_m = into.clear_m or other.clear_m


def _speed(text: str | None, what: str, line: int, statute: bool, problems: Problems) -> int | None:
    value = _number(text, what, line, problems, positive=True)
    return None if value is None else round(value * MILE_KM if statute else value)


def _mark(el: xmltree.Node, statute: bool, problems: Problems) -> Mark:
    radii = []
    for attr in ("open", "clear"):
        value = _number(el.attrs.get(attr), f"openrally:{el.tag} {attr}", el.line, problems, positive=True)
        radii.append(None if value is None else max(1, round(value * YARD_M if statute else value)))
    name = (el.attrs.get("name") or "").strip() or None
    return Mark(TYPES[el.tag], name, radii[0], radii[1], el.line)
