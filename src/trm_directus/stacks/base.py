"""What every stack backend offers: start → URL, admin token, DB DSN, Redis URL → stop."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import signals
from ..db.settings import DbSettings
from ..secretfile import new_secret, write_private


@dataclass
class StackInfo:
    backend: str
    state_dir: str
    url: str = ""
    admin_email: str = "admin@example.com"
    admin_password: str = ""
    admin_token: str = ""
    secret: str = ""
    db: dict = field(default_factory=dict)  # DbSettings as a dict (host, port, database, user, password)
    redis_url: str = ""
    ports: dict = field(default_factory=dict)
    pids: dict = field(default_factory=dict)
    persistent: bool = False
    pg_dir: str = ""  # native: where its PostgreSQL cluster was created (a vanished one is refused, not re-created)
    redis_password: str = ""
    project: str = ""  # compose project name
    env: dict = field(default_factory=dict)  # extra settings the stack was created with (kept across commands)
    instances: int = 1  # native: how many Directus processes (stacks/instances.py)
    balancer: bool = False  # native: HAProxy on the `directus` port in front of them (always with 2 or more)
    backup_repo: str = ""  # native: its pgBackRest repository, when its WAL is archived (backup/)

    @property
    def db_settings(self) -> DbSettings:
        return DbSettings(**self.db)

    @property
    def dsn(self) -> str:
        return self.db_settings.dsn

    def save(self) -> None:
        path = Path(self.state_dir) / "stack.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(asdict(self), indent=2) + "\n")  # it holds the stack's credentials

    @classmethod
    def load_or_new(
        cls,
        state_dir: Path,
        backend: str,
        *,
        persistent: bool,
        ports: dict[str, int | None],
        database: str,
        user: str,
        project: str = "",
    ) -> StackInfo:
        """The stack's recorded info, or new info with generated secrets and free ports."""
        from ..services.proc import free_ports

        info = cls.load(state_dir) or cls(
            backend=backend,
            state_dir=str(state_dir),
            secret=new_secret(32),
            admin_password=new_secret(12),
            admin_token=new_secret(24),
            persistent=persistent,
            project=project,
        )
        for name, port in ports.items():
            if port:
                info.ports[name] = port
        missing = [name for name in ports if name not in info.ports]
        taken = set(info.ports.values())
        chosen = [p for p in free_ports(len(missing) + len(taken)) if p not in taken][: len(missing)]
        info.ports.update(zip(missing, chosen, strict=True))
        if not info.db:
            info.db = {
                "host": "127.0.0.1",
                "port": info.ports["postgres"],
                "database": database,
                "user": user,
                "password": new_secret(12),
            }
        info.url = f"http://127.0.0.1:{info.ports['directus']}"
        return info

    @classmethod
    def load(cls, state_dir: Path) -> StackInfo | None:
        path = Path(state_dir) / "stack.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


DEFAULT_EXCLUDED_TABLES = "spatial_ref_sys,sysdiagrams,positions,recompute_requests"
# Activity and revisions are an entry's history (GET /trm/entries/:id/timeline): kept through an
# event's appeals and up to its next edition, then trimmed daily (docs/decisions/0012-retention-400-days.md). The image
# sets the same values (image/Dockerfile; a unit test keeps them equal).
RETENTION = {"RETENTION_ENABLED": "true", "ACTIVITY_RETENTION": "400d", "REVISIONS_RETENTION": "400d"}


def directus_settings(
    info: StackInfo, *, public_url: str, host: str, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The Directus configuration both backends give a stack (native: a CONFIG_PATH file; compose: env)."""
    db = info.db_settings
    settings = {
        "DB_CLIENT": "pg",
        "DB_HOST": db.host,
        "DB_PORT": str(db.port),
        "DB_DATABASE": db.database,
        "DB_USER": db.user,
        "DB_PASSWORD": db.password,
        # One SECRET for every instance: a token signed by one is accepted by the others.
        "SECRET": info.secret,
        "ADMIN_EMAIL": info.admin_email,
        "ADMIN_PASSWORD": info.admin_password,
        "ADMIN_TOKEN": info.admin_token,
        # Without a project owner the first admin login is blocked by a licence dialog (lessons.md).
        "PROJECT_OWNER": info.admin_email,
        "HOST": host,
        "PORT": str(port),
        # The URL clients use (the balancer's, with several instances): links and redirects point there.
        "PUBLIC_URL": public_url,
        "REDIS": info.redis_url,
        # One configuration for one or several instances on one Redis (lessons.md "Several Directus
        # instances"), so adding an instance changes nothing else. Each must be shared:
        # schedule() jobs (the outbox resend) run once per tick across the instances, not once each;
        "SYNCHRONIZATION_STORE": "redis",
        # the rate limiter's budget is one per client whichever instance answers (when it is enabled);
        "RATE_LIMITER_STORE": "redis",
        # the system cache (permissions, policies, settings): one copy for all instances rather than one per
        # process, cleared once for all by a change (measured: another instance enforced a removed
        # permission within 0.2 s with either store; Directus's bus also clears per-process copies);
        "CACHE_STORE": "redis",
        # the response cache stays off: operations read live data (flags, results), and every write
        # would purge it for all instances anyway.
        "CACHE_ENABLED": "false",
        # db-init owns positions (and PostGIS owns spatial_ref_sys): never Directus collections.
        "DB_EXCLUDE_TABLES": DEFAULT_EXCLUDED_TABLES,
        "TELEMETRY": "false",
        # Subscriptions on one instance hear about writes made through another over Redis.
        "WEBSOCKETS_ENABLED": "true",
        "LOG_LEVEL": "info",
        # Stacks are single-user dev/test instances on small shared machines: Directus's pressure
        # limiter answered 503 "Under pressure" to the drift gate's GET /schema/snapshot at a load
        # of 9 on 2 cores. Production (the image's own environment) keeps Directus's default.
        "PRESSURE_LIMITER_ENABLED": "false",
        **RETENTION,
    }
    settings.update(extra or {})
    return settings


class StackLifecycle:
    """Context-manager behaviour shared by the backends: throw-away stacks are purged on exit,
    also when starting failed or the process got SIGTERM; persistent (dev) stacks only stop."""

    persistent: bool

    def start(self) -> StackInfo:  # pragma: no cover - implemented by backends
        raise NotImplementedError

    def stop(self, *, purge: bool = False) -> None:  # pragma: no cover - implemented by backends
        raise NotImplementedError

    def __enter__(self):
        signals.install()  # SIGTERM must reach __exit__ below, or the stack's processes outlive us
        try:
            self.start()
        except BaseException:
            self.stop(purge=not self.persistent)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(purge=not self.persistent)
