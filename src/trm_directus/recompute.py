"""The recompute stream as the processor sees it: read `recompute:requests` (XRANGE), and synthetic positions to flag."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from urllib.parse import unquote, urlparse

import psycopg

STREAM = "recompute:requests"


def _command(sock_file, *args: str) -> None:
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode()
        parts += [f"${len(b)}\r\n".encode(), b, b"\r\n"]
    sock_file.write(b"".join(parts))
    sock_file.flush()


def _reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(f"redis: {rest}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_reply(f) for _ in range(n)]
    raise RuntimeError(f"redis: unexpected reply {line!r}")


def redis_call(url: str, *args: str, timeout: float = 5) -> object:
    u = urlparse(url)
    with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=timeout) as s, s.makefile("rwb") as f:
        if u.password:  # stacks' Redis requires a password (other local accounts must not use it)
            _command(f, "AUTH", *([u.username] if u.username else []), unquote(u.password))
            _reply(f)
        _command(f, *args)
        return _reply(f)


def read_stream(url: str, start: str = "-", stream: str = STREAM) -> list[tuple[str, dict[str, str]]]:
    """Every entry of the stream from `start` (XRANGE): [(entry id, {field: value})] in stream order."""
    entries = redis_call(url, "XRANGE", stream, start, "+") or []
    return [(eid, dict(zip(fields[::2], fields[1::2], strict=True))) for eid, fields in entries]


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
