"""Database connection settings (the variables Directus itself reads) and waiting for a server."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

from .. import console, deadlines
from ..errors import ConfigError, DatabaseUnavailable

DEFAULT_TIMEOUT_SECONDS = deadlines.DATABASE.default


@dataclass(frozen=True)
class DbSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    database: str = "directus"
    user: str = "directus"
    password: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DbSettings:
        env = os.environ if env is None else env
        client = env.get("DB_CLIENT", "pg")
        if client not in ("pg", "postgres", "postgresql"):
            raise ConfigError(f"DB_CLIENT={client!r} is not supported", "TRM runs on PostgreSQL: set DB_CLIENT=pg")
        port = env.get("DB_PORT", "5432")
        if not port.isdigit():
            raise ConfigError(f"DB_PORT={port!r} is not a port number", "set DB_PORT to an integer such as 5432")
        return cls(
            host=env.get("DB_HOST", cls.host),
            port=int(port),
            database=env.get("DB_DATABASE", cls.database),
            user=env.get("DB_USER", cls.user),
            password=env.get("DB_PASSWORD", cls.password),
        )

    @property
    def dsn(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def with_database(self, database: str) -> DbSettings:
        return DbSettings(self.host, self.port, database, self.user, self.password)


_KV_PASSWORD = re.compile(r"""(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']*)""", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ***, safe to print: URLs (user:password@, ?password=) and
    libpq key=value strings (`host=… password=secret` or `password='with spaces'`)."""
    if "://" not in dsn:
        return _KV_PASSWORD.sub(r"\1***", dsn)
    parts = urlsplit(dsn)
    if parts.password is not None:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    return _QUERY_PASSWORD.sub(r"\1***", urlunsplit(parts))


def resolve_dsn(dsn: str | None, env: Mapping[str, str] | None = None) -> str:
    return dsn or DbSettings.from_env(env).dsn


def application_name(role: str) -> str:
    """How our sessions introduce themselves, so that a wait can name who holds a lock (max 63 bytes)."""
    return f"{role} host={socket.gethostname()} pid={os.getpid()}"[:63]


def wait_for(
    dsn: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, *, quiet: bool = False, role: str = "trm-directus"
) -> psycopg.Connection:
    """Connect, retrying until the server answers or `timeout` seconds have passed."""
    t0 = time.monotonic()
    last_report = t0
    attempt = 0
    while True:
        attempt += 1
        try:
            conn = psycopg.connect(dsn, connect_timeout=5, autocommit=True, application_name=application_name(role))
            if attempt > 1 and not quiet:
                console.info(f"database answered after {console.fmt_seconds(time.monotonic() - t0)}")
            return conn
        except psycopg.ProgrammingError as exc:
            raise ConfigError(
                f"database DSN {mask_dsn(dsn)} is malformed: {exc}",
                "pass a postgresql:// URL or libpq key=value pairs (host=… port=… dbname=… user=… password=…)",
            ) from None
        except psycopg.OperationalError as exc:
            last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            now = time.monotonic()
            if now - t0 >= timeout:
                raise DatabaseUnavailable(
                    f"database {mask_dsn(dsn)} did not answer within {timeout:.0f}s ({attempt} attempts)",
                    "check DB_HOST/DB_PORT/DB_DATABASE/DB_USER/DB_PASSWORD and that the server is up; "
                    "raise DB_INIT_TIMEOUT_SECONDS if it is just slow to start",
                    details=f"last error: {last_error}",
                ) from exc
            if not quiet and (attempt == 1 or now - last_report >= 5):
                last_report = now
                console.info(f"waiting for database {mask_dsn(dsn)} ({now - t0:.0f}s of {timeout:.0f}s): {last_error}")
            time.sleep(min(1.0, max(0.05, timeout - (now - t0))))


def timeout_from_env(env: Mapping[str, str] | None = None) -> float:
    return deadlines.DATABASE.seconds(env)
