"""A small Directus REST client (stdlib only): token auth, JSON in and out, errors that say what failed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from ..errors import DirectusError

RETRIES_503 = 6
RETRY_DELAY = 0.25  # seconds, doubled per retry (at most 4 s): about 12 s in all


class Directus:
    def __init__(self, url: str, token: str, *, timeout: float = 60) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.requests = 0  # how many HTTP requests this client made (seed efficiency is measured with it)

    @classmethod
    def login(cls, url: str, email: str, password: str, *, timeout: float = 60) -> Directus:
        """A client holding the access token of a password login (the login itself sends no token)."""
        data = cls(url, "", timeout=timeout).request("POST", "/auth/login", {"email": email, "password": password})
        return cls(url, data["access_token"], timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None, ok: tuple[int, ...] = (200, 204)
    ) -> Any:
        query = ""
        if params:
            query = "?" + urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}{path}{query}",
            data=data,
            method=method,
            headers={
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        self.requests += 1
        for attempt in range(RETRIES_503 + 1):
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                    status = resp.status
            except urllib.error.HTTPError as exc:
                try:
                    raw = exc.read()
                except OSError:  # the server closed the connection after the status line (e.g. 431 on a huge URL)
                    raw = b""
                status = exc.code
            except OSError as exc:
                raise DirectusError(
                    f"{method} {path}: Directus at {self.url} did not answer ({exc})",
                    "check that the stack is up (`invoke status`) and the URL is right",
                ) from None
            # Directus's pressure limiter answers 503 before handling the request (event loop busy,
            # e.g. after a large batch on a loaded machine): nothing happened, so it is safe to retry.
            if status != 503 or attempt == RETRIES_503:
                break
            time.sleep(min(4.0, RETRY_DELAY * 2**attempt))
        if status not in ok:
            message = _error_message(raw)
            raise DirectusError(
                f"{method} {path} -> HTTP {status}: {message}", _hint(status), status=status, body=raw.decode(errors="replace")
            )
        if not raw:
            return None
        doc = json.loads(raw)
        return doc.get("data", doc) if isinstance(doc, dict) else doc

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def get_in(self, path: str, field: str, values: list[Any], **params: Any) -> list[Any]:
        """Rows whose `field` is one of `values` (`_in` filter), in as many GETs as keep each URL short:
        thousands of keys in one query string are refused by the server (HTTP 431) or a proxy."""
        rows: list[Any] = []
        for chunk in chunks(values, MAX_FILTER_CHARS):
            rows += self.get(path, filter={field: {"_in": chunk}}, **params)
        return rows

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("POST", path, body, params=params or None)

    def patch(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PATCH", path, body, params=params or None)

    def delete(self, path: str, body: Any = None) -> Any:
        return self.request("DELETE", path, body)

    # schema ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return self.get("/schema/snapshot")

    def schema_diff(self, snapshot: dict[str, Any], *, force: bool = False) -> dict[str, Any] | None:
        """Directus's own diff of `snapshot` against the instance: {hash, diff}, or None when nothing differs."""
        return self.request("POST", "/schema/diff" + ("?force=true" if force else ""), snapshot)

    def schema_apply(self, diff: dict[str, Any]) -> None:
        self.request("POST", "/schema/apply", diff)

    def clear_cache(self) -> None:
        # lessons.md: after a schema change outside this server, its schema cache is stale.
        self.request("POST", "/utils/cache/clear?system=true")

    def wait_healthy(self, timeout: float = 60) -> None:
        t0 = time.monotonic()
        while True:
            try:
                if self.request("GET", "/server/health"):
                    return
            except DirectusError:
                if time.monotonic() - t0 > timeout:
                    raise
            time.sleep(0.25)


# Node refuses request headers over 16 KiB in total, and proxies often stop at 8 KiB: keep one filter well below.
MAX_FILTER_CHARS = 6000


def chunks(values: list[Any], limit: int) -> Iterator[list[Any]]:
    """Split `values` into consecutive lists whose URL-encoded JSON stays within `limit` characters."""
    chunk: list[Any] = []
    size = 0
    for value in values:
        cost = len(urllib.parse.quote(json.dumps(value))) + 3  # the value plus an encoded comma
        if chunk and size + cost > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += cost
    if chunk:
        yield chunk


def _error_message(raw: bytes) -> str:
    try:
        doc = json.loads(raw)
        errors = doc.get("errors") or []
        parts = []
        for e in errors[:3]:
            code = (e.get("extensions") or {}).get("code", "")
            parts.append(f"{e.get('message', '')}" + (f" [{code}]" if code else ""))
        return "; ".join(parts) or raw.decode(errors="replace")[:300]
    except (ValueError, AttributeError):
        return raw.decode(errors="replace")[:300]


def _hint(status: int) -> str:
    return {
        401: "the token is invalid or expired: use the stack's admin token (`invoke status`) or --token",
        403: "the token lacks permission for this (or the item does not exist)",
        404: "no such endpoint or item",
    }.get(status, "see the Directus error above")
