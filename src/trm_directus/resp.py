"""A small Redis client (RESP2 over a socket) for the streams this repo reads and writes: the recompute
requests, device commands and their replies, the reference gateway. Stdlib only, like the REST client.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any
from urllib.parse import unquote, urlparse


class RedisError(RuntimeError):
    """Redis answered with an error (`-ERR …`, `-BUSYGROUP …`)."""


def encode(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = str(a).encode()
        parts += [f"${len(b)}\r\n".encode(), b, b"\r\n"]
    return b"".join(parts)


def ping(host: str, port: int, password: str = "", username: str = "", timeout: float = 2.0) -> bool:
    """True when Redis answers PING (after AUTH when a password is given)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        if password:
            s.sendall(encode("AUTH", *([username] if username else []), password))
            if not s.recv(256).startswith(b"+OK"):
                return False
        s.sendall(encode("PING"))
        return s.recv(64).startswith(b"+PONG")


def read(f) -> Any:
    """One reply from a buffered socket file: str, int, None, a list, or RedisError raised."""
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    line = line.rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RedisError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read(f) for _ in range(n)]
    raise RedisError(f"unexpected reply {line!r}")


class Connection:
    """One connection (authenticated when the URL has a password), for a sequence of calls."""

    def __init__(self, url: str, timeout: float = 5) -> None:
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=timeout)
        self.file = self.sock.makefile("rwb")
        if u.password:  # stacks' Redis requires a password (other local accounts must not use it)
            self.call("AUTH", *([unquote(u.username)] if u.username else []), unquote(u.password))

    def call(self, *args: str) -> Any:
        self.file.write(encode(*args))
        self.file.flush()
        return read(self.file)

    def close(self) -> None:
        for c in (self.file, self.sock):
            with contextlib.suppress(OSError):
                c.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def call(url: str, *args: str, timeout: float = 5) -> Any:
    """One command on a new connection."""
    with Connection(url, timeout) as conn:
        return conn.call(*args)


def fields(flat: list[str]) -> dict[str, str]:
    """A stream entry's [k1, v1, k2, v2, …] as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))
