"""Is Redis answering? Boot waits for it before Directus starts, because Directus exits without it.

Measured with Directus 11.17.4 (REDIS set): started while Redis is down, it retries for about
30 s and exits with an uncaught MaxRetriesPerRequestError; losing Redis while running, requests
fail with 500 and the process exits the same way. So boot-steps checks Redis first, within
TRM_REDIS_TIMEOUT_SECONDS, and fails with a message naming it (password masked) instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .. import console, resp
from ..db.settings import mask_dsn
from ..errors import WaitTimeout


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    username: str = ""
    password: str = ""
    url: str = ""  # for messages (masked)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RedisTarget | None:
        """Directus's own settings: REDIS (a redis:// URL) or REDIS_HOST/REDIS_PORT/...; None when unset or TLS."""
        env = os.environ if env is None else env
        if (env.get("REDIS_ENABLED") or "").strip().lower() == "false":
            return None
        url = (env.get("REDIS") or "").strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme != "redis":
                return None  # rediss:// (TLS) is left to Directus
            return cls(
                parts.hostname or "127.0.0.1",
                parts.port or 6379,
                unquote(parts.username or ""),
                unquote(parts.password or ""),
                mask_dsn(url),
            )
        host = (env.get("REDIS_HOST") or "").strip()
        if not host:
            return None
        port = int(env.get("REDIS_PORT") or 6379)
        return cls(host, port, env.get("REDIS_USERNAME", ""), env.get("REDIS_PASSWORD", ""), f"{host}:{port}")


def wait_for(target: RedisTarget, timeout: float, setting: str) -> None:
    t0 = time.monotonic()
    last = "no answer"
    reported = None
    while True:
        try:
            if resp.ping(target.host, target.port, target.password, target.username):
                if reported is not None:
                    console.info(f"Redis answered after {console.fmt_seconds(time.monotonic() - t0)}")
                return
            last = "it refused the password or did not answer PING"
        except OSError as exc:
            last = str(exc) or type(exc).__name__
        now = time.monotonic()
        if now - t0 >= timeout:
            raise WaitTimeout(
                f"Redis at {target.url} did not answer within {timeout:g}s ({setting})",
                "start Redis or fix REDIS (Directus exits without it); raise the setting if it is only slow to start",
                details=f"last error: {last}",
            )
        if reported is None or now - reported >= 5:
            reported = now
            console.info(f"waiting for Redis at {target.url} ({now - t0:.0f}s of {timeout:g}s): {last}")
        time.sleep(0.5)
