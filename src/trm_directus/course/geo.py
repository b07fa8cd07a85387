"""Geometry on the sphere for course checks: haversine distance, nearest route point, route slices."""

from __future__ import annotations

import math

from .stage import Coord

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def distance_m(a: Coord, b: Coord) -> float:
    """Great-circle distance in metres between two (lon, lat) points (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


ON_ROUTE_M = 50  # a point this close to the route is on it
LEFT_BEHIND_M = 5000  # ... and once the route is this far away again, that passage was the nearest


def nearest(route: tuple[Coord, ...] | list[Coord], p: Coord, start: int = 0) -> int:
    """Index of the route point nearest to `p`, searching forward from `start` (a course runs
    forward): the first passage of the route by `p` when it passes within ON_ROUTE_M."""
    # Equirectangular distance is enough to rank neighbours and ~20x cheaper than haversine.
    k = math.cos(math.radians(p[1])) ** 2
    deg_m = 111_195.0  # metres per degree of latitude
    on_route, left = (ON_ROUTE_M / deg_m) ** 2, (LEFT_BEHIND_M / deg_m) ** 2
    px, py = p
    best, best_d = start, math.inf
    for i in range(start, len(route)):
        qx, qy = route[i]
        d = (qx - px) * (qx - px) * k + (qy - py) * (qy - py)
        if d < best_d:
            best, best_d = i, d
        elif best_d <= on_route and d > left:
            break
    return best


def corridor(route: tuple[Coord, ...] | None, a: Coord, b: Coord, start: int = 0) -> tuple[tuple[Coord, ...], int]:
    """The line from `a` along the route to `b` — a, the route points strictly between the ones
    nearest to a and to b (searched forward from `start`), b — and the route index where it ends.
    Without a route it is the straight line a → b."""
    j = start
    inner: tuple[Coord, ...] = ()
    if route and len(route) >= 2:
        i = nearest(route, a, start)
        j = nearest(route, b, i)
        inner = tuple(route[i + 1 : j])
    line = _dedupe((a, *inner, b))
    if len(line) < 2:  # a == b: a degenerate line is not valid geometry
        line = (a, (round(a[0] + 1e-6, 7), a[1]))
    return line, j


def _dedupe(coords) -> tuple[Coord, ...]:
    out: list[Coord] = []
    for c in coords:
        if not out or out[-1] != c:
            out.append(c)
    return tuple(out)


def length_km(coords: tuple[Coord, ...] | list[Coord]) -> float:
    return sum(distance_m(coords[i], coords[i + 1]) for i in range(len(coords) - 1)) / 1000
