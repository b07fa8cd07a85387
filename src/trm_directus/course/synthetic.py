"""A generated rally course of any size (tests, benchmarks): stages as OpenRally GPX, one file each.

Deterministic for a seed. Each stage is a route (a random walk over Albania, a point every 100 m)
cut into liaison (TC with a target time, a village speed zone, a WPV) → special stage (DSS, WPs
of every type, CPs, village speed zones, a 30-minute neutralization SN → FN half-way) → liaison (DT
200 m after the ASS, a speed zone, FT) — about 57 waypoints per stage, so the default 7 stages make ~400 waypoints over
~2,000 km. WPM and WPV carry no radii: they come from the event's defaults (`DEFAULTS`).
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from . import segments, writer
from .stage import TIME_CONTROLS, Coord, Segment, Stage, Waypoint, coord

# Per-type (open_radius_m, validation_radius_m), domain.md values; what tests and benchmarks seed.
DEFAULTS = {
    "DSS": (1000, 200), "ASS": (1000, 200), "WPV": (1000, 200), "WPM": (800, 90), "WPE": (1000, 90),
    "WPS": (1000, 90), "WPC": (1000, 300), "WPN": (800, 200), "WPP": (1000, 200), "DZ": (1000, 90),
    "FZ": (1000, 90), "CP": (1000, 200), "TC": (200, 50), "DT": (200, 50), "FT": (200, 50), "SN": (200, 50),
    "FN": (200, 50),
}  # fmt: skip
WP_CYCLE = ("WPM", "WPV", "WPE", "WPS", "WPC", "WPN", "WPP", "CP")
BOX = (19.4, 39.8, 20.9, 42.5)  # lon/lat box inside Albania
STEP_KM = 0.1


def _route(rng: random.Random, start: Coord, km: float) -> list[Coord]:
    lon, lat = start
    heading = rng.uniform(0, 360)
    out = [coord(lon, lat)]
    while len(out) <= round(km / STEP_KM):
        heading += rng.gauss(0, 8)
        dlat = STEP_KM / 111.2 * math.cos(math.radians(heading))
        dlon = STEP_KM / (111.2 * math.cos(math.radians(lat))) * math.sin(math.radians(heading))
        if not (BOX[0] < lon + dlon < BOX[2] and BOX[1] < lat + dlat < BOX[3]):
            heading += 180
            continue
        lon, lat = lon + dlon, lat + dlat
        out.append(coord(lon, lat))
    return out


def stage(n: int, km: float, waypoints: int, rng: random.Random, start: Coord) -> tuple[Stage, dict[str, int]]:
    """Stage `n` of `km` km with about `waypoints` waypoints; returns it with the DZ speed limits."""
    route = _route(rng, start, km)
    last = len(route) - 1
    at = lambda k: min(last, max(0, round(k / STEP_KM)))  # noqa: E731  km -> route index
    counters: dict[str, int] = {}
    speeds: dict[str, int] = {}
    wp_number = [0]

    def wp(kind: str, k: float, *, named: bool = False, radii: bool = True) -> Waypoint:
        family = "TC" if kind in TIME_CONTROLS else kind  # the codes the importer generates
        counters[family] = counters.get(family, 0) + 1
        code = f"{family}{counters[family]}"
        if named:
            wp_number[0] += 1
            code = str(wp_number[0])
        lon, lat = route[at(k)]
        open_m, clear_m = DEFAULTS[kind] if radii and kind not in ("WPM", "WPV") else (None, None)
        return Waypoint(code, kind, lon, lat, open_m, clear_m, round(at(k) * STEP_KM, 3),
                        rng.randrange(360) if named else None, rng.choice((None, None, 1, 2, 3)) if named else None)  # fmt: skip

    def zone(k: float, limit: int) -> list[Waypoint]:
        dz, fz = wp("DZ", k), wp("FZ", k + 2)
        speeds[dz.code] = limit
        return [dz, fz]

    ss_start, ss_end = 35.0, km - 35
    middle = (ss_start + ss_end) / 2
    free = max(4, waypoints - 12)  # 12 fixed: TC, DZ, FZ, WPV | DSS | SN, FN | ASS | DT, DZ, FZ, FT
    # evenly spread over the special stage, leaving room for the neutralization (middle → middle + 3 km)
    spots = [ss_start + (ss_end - ss_start - 10) * (i + 1) / (free + 1) for i in range(free)]
    spots = [k if k < middle - 2 else k + 10 for k in spots]
    first = [Segment("liaison", [wp("TC", 0), *zone(10, 50), wp("WPV", 25, named=True)], target_duration_seconds=3600)]
    special: list[Waypoint] = [wp("DSS", ss_start)]
    neutral = [wp("SN", middle), wp("FN", middle + 3)]
    after: list[Waypoint] = []
    i = 0
    while i < len(spots):
        target = special if spots[i] < middle else after
        if i % 12 == 11 and i + 1 < len(spots):  # a village: DZ here, FZ 2 km on
            target.extend(zone(spots[i], rng.choice((30, 40, 50))))
            i += 2
        else:
            target.append(wp(WP_CYCLE[i % len(WP_CYCLE)], spots[i], named=True))
            i += 1
    after.append(wp("ASS", ss_end))
    last_liaison = [wp("DT", ss_end + 0.2), *zone(km - 20, 50), wp("FT", km)]
    segs = [*first, Segment("special-stage", special), Segment("neutralization", neutral, target_duration_seconds=1800),
            Segment("special-stage", after), Segment("liaison", last_liaison)]  # fmt: skip
    result = Stage(f"Stage {n}", [s for s in segs if s.waypoints], tuple(route))
    segments.link_zones(result, speeds, lambda line, msg: None)
    return result, speeds


def rally(stages: int = 7, total_km: float = 2000, waypoints: int = 400, seed: int = 2026) -> list[Stage]:
    rng = random.Random(seed)
    out, start = [], coord(19.82, 41.33)  # Tirana
    for n in range(1, stages + 1):
        km = total_km / stages * rng.uniform(0.9, 1.1)
        s, _ = stage(n, km, round(waypoints / stages), rng, start)
        out.append(s)
        start = s.route[-1]
    return out


def write_files(directory: Path, **kwargs) -> list[Path]:
    """Write the rally as stage-N.gpx files into `directory`; the paths in stage order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, s in enumerate(rally(**kwargs), 1):
        path = directory / f"stage-{i}.gpx"
        path.write_text(writer.write(s))
        paths.append(path)
    return paths
