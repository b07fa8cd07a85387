"""The OpenRally standard's own example for the course tests, generated from the vendored copy (not committed)."""

from __future__ import annotations

import re

from trm_directus.course import openrally_schema

EXAMPLE = "example.gpx"


def spread_example() -> str:
    """The standard's example.gpx with its <wpt>s spread out: every point is at 0,0 there (a timing
    system refuses that); here the n-th is at 41° N + n × 0.01° (1.1 km apart), 20° E."""
    text = (openrally_schema.schema_dir() / "cross-country" / EXAMPLE).read_text()
    at_zero = re.compile(r'<wpt lat="0" lon="0">')
    count = iter(range(len(at_zero.findall(text))))
    spread = at_zero.sub(lambda _: f'<wpt lat="{41 + next(count) / 100:.2f}" lon="20">', text)
    assert 'lat="0"' not in spread, "example.gpx changed: a <wpt> is not at 0,0 as expected"
    return spread
