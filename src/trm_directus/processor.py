"""The recompute stream as the processor sees it: read `recompute:requests` (XRANGE), and synthetic positions to flag."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from . import resp

STREAM = "recompute:requests"


def read_stream(url: str, start: str = "-", stream: str = STREAM) -> list[tuple[str, dict[str, str]]]:
    """Every entry of the stream from `start` (XRANGE): [(entry id, {field: value})] in stream order."""
    entries = resp.call(url, "XRANGE", stream, start, "+") or []
    return [(eid, resp.fields(flat)) for eid, flat in entries]


def insert_positions(dsn: str, imei: str, start: datetime, count: int, every: timedelta = timedelta(seconds=1)) -> None:
    """`count` plausible positions of one device, one per `every` from `start` (as the processor writes them)."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
               SELECT %s, %s + g * %s, '8E', 41.3 + g * 1e-5, 19.8 + g * 1e-5, 120, 90, 60, 9, 0
                 FROM generate_series(0, %s - 1) AS g
               ON CONFLICT (device_id, ts) DO NOTHING""",
            (imei, start, every, count),
        )
