"""Checks on a built stage before anything is written, and radii resolved from the event's defaults.

Every problem is collected with its source line (see problems.py): radii missing where the event
has no default for the type, validation radius above the opening radius, overlapping validation
radii of consecutive waypoints validated in sequence (DSS, ASS, WPx, CP: haversine distance < the
sum of the two validation radii; markers that only delimit a zone or a control — DZ/FZ, DT/FT,
SN/FN, TC — are skipped, and the waypoints of one <wpt> share a point and are not compared),
duplicate or over-long codes, a stage without waypoints, a route of a single point, an over-long
stage name. The file-level problems
(not GPX, namespaces, coordinates, DZ/FZ pairing) were found while reading and building.
"""

from __future__ import annotations

import dataclasses
import itertools

from ..documents.validation import Problems
from . import geo
from .stage import CODE_MAX, STAGE_NAME_MAX, VALIDATED_IN_SEQUENCE, Stage, Waypoint

# waypoint type -> (open_radius_m, validation_radius_m), from waypoint_radius_defaults of the event
Defaults = dict[str, tuple[int, int]]


def resolve(stage: Stage, defaults: Defaults, problems: Problems, event: str = "the event") -> Stage:
    """The stage with every waypoint's missing radius taken from the defaults; checks the result."""
    for segment in stage.segments:
        segment.waypoints = [_radii(wp, defaults, problems, event) for wp in segment.waypoints]
    check(stage, problems)
    return stage


def _radii(wp: Waypoint, defaults: Defaults, problems: Problems, event: str) -> Waypoint:
    default = defaults.get(wp.type)
    open_m, clear_m = wp.open_radius_m, wp.validation_radius_m
    if default is not None:
        open_m = open_m if open_m is not None else default[0]
        clear_m = clear_m if clear_m is not None else default[1]
    missing = [attr for attr, v in (("open", open_m), ("clear", clear_m)) if v is None]
    if missing:
        attrs = " ".join(f'{a}="…"' for a in missing)
        problems.add(
            wp.line,
            f"{wp.type} {wp.code}: no {' and no '.join(missing)} radius in the file and no default for {wp.type} in "
            f"{event}: add {attrs} to the element, or a waypoint_radius_defaults row for {wp.type}",
        )
    elif clear_m > open_m:
        problems.add(
            wp.line, f"{wp.type} {wp.code}: validation radius {clear_m} m (clear) exceeds the opening radius {open_m} m (open)"
        )
    return dataclasses.replace(wp, open_radius_m=open_m, validation_radius_m=clear_m)


def check(stage: Stage, problems: Problems) -> None:
    if len(stage.name) > STAGE_NAME_MAX:
        problems.add(stage.line or 1, f"stage name is {len(stage.name)} characters long (at most {STAGE_NAME_MAX}): use --stage")
    if stage.route is not None and len(set(stage.route)) < 2:
        problems.add(1, "the route (<trk>) needs at least two distinct points")
    waypoints = [wp for _, _, wp in stage.waypoints()]
    if not waypoints and not problems:  # otherwise a consequence of the problems already listed
        problems.add(1, "no OpenRally waypoints in the file (no <wpt> with an openrally: waypoint element)")
    seen: dict[str, Waypoint] = {}
    for wp in waypoints:
        if len(wp.code) > CODE_MAX:
            problems.add(wp.line, f"waypoint name {wp.code!r} is longer than {CODE_MAX} characters")
        if wp.code in seen:
            first = seen[wp.code]
            problems.add(
                wp.line,
                f"waypoint name {wp.code!r} is used twice in the stage ({first.type} at line {first.line}, {wp.type} here)",
            )
        seen.setdefault(wp.code, wp)
    for a, b in itertools.pairwise(wp for wp in waypoints if wp.type in VALIDATED_IN_SEQUENCE):
        if a.group == b.group and a.group >= 0:
            continue
        if a.validation_radius_m is None or b.validation_radius_m is None:
            continue
        d = geo.distance_m((a.lon, a.lat), (b.lon, b.lat))
        limit = a.validation_radius_m + b.validation_radius_m
        if d < limit:
            problems.add(
                b.line,
                f"validation radii overlap: {a.type} {a.code} (line {a.line}, {a.validation_radius_m} m) and {b.type} {b.code} "
                f"({b.validation_radius_m} m) are {d:.0f} m apart, less than {limit} m",
            )
