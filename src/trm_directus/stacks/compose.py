"""The compose backend: `docker compose` with image/compose.yaml (timescaledb-ha, redis, the built image).

Exercised for real only where a Docker engine answers; its command lines and environment are
unit-tested everywhere.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .. import console, paths
from ..errors import StackError
from ..secretfile import write_private
from ..services import proc
from .base import StackInfo, StackLifecycle

COMPOSE_FILE = Path("image") / "compose.yaml"
DB_USER = "directus"
DB_NAME = "directus"


def engine_available(timeout: float = 2.0) -> tuple[bool, str]:
    """Whether a Docker engine answers and the compose plugin exists (reason when not)."""
    try:
        import docker

        docker.from_env(timeout=timeout).ping()
    except Exception as exc:  # the SDK raises several unrelated types when no engine listens
        return False, f"no Docker engine answers ({type(exc).__name__})"
    if not shutil.which("docker"):
        return False, "the docker CLI is not installed"
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        return False, "the docker compose plugin is not installed"
    return True, "Docker engine and compose plugin available"


class ComposeStack(StackLifecycle):
    backend = "compose"

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        project: str | None = None,
        persistent: bool = False,
        directus_port: int | None = None,
        db_port: int | None = None,
        env: dict[str, str] | None = None,
        health_timeout: float = 300,
    ) -> None:
        self.persistent = persistent
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="trm-compose-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.extra_env = dict(env or {})
        self.health_timeout = health_timeout
        self.info = StackInfo.load_or_new(
            self.state_dir,
            self.backend,
            persistent=persistent,
            database=DB_NAME,
            user=DB_USER,
            ports={"directus": directus_port, "postgres": db_port},
            project=project or f"trm-{secrets.token_hex(4)}",
        )
        self.project = self.info.project
        self.info.redis_url = "redis://redis:6379"

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def env_file(self) -> Path:
        return self.state_dir / "compose.env"

    def compose_env(self) -> dict[str, str]:
        """Variables image/compose.yaml interpolates; written to an env file the stack owns."""
        env = {
            "COMPOSE_PROJECT_NAME": self.project,
            "DIRECTUS_PORT": str(self.info.ports["directus"]),
            "DB_PORT_PUBLISHED": str(self.info.ports["postgres"]),
            "DB_PASSWORD": self.info.db["password"],
            "SECRET": self.info.secret,
            "ADMIN_EMAIL": self.info.admin_email,
            "ADMIN_PASSWORD": self.info.admin_password,
            "ADMIN_TOKEN": self.info.admin_token,
            "PROJECT_OWNER": self.info.admin_email,
            "PUBLIC_URL": self.url,
        }
        env.update(self.extra_env)
        return env

    def compose_cmd(self, *args: str) -> list[str]:
        root = paths.repo_root()
        return [
            "docker",
            "compose",
            "--project-directory",
            str(root),
            "-f",
            str(root / COMPOSE_FILE),
            "-p",
            self.project,
            "--env-file",
            str(self.env_file),
            *args,
        ]

    def _run(self, *args: str, step: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return proc.run(self.compose_cmd(*args), step=step, timeout=timeout)

    def write_env_file(self) -> Path:
        write_private(self.env_file, "".join(f"{k}={v}\n" for k, v in self.compose_env().items()))
        return self.env_file

    def start(self) -> StackInfo:
        self.write_env_file()
        self.info.save()
        t0 = time.monotonic()
        with console.step(f"docker compose up ({self.project}) -> {self.url}"):
            try:
                self._run(
                    "up", "--detach", "--build", "--wait", "--wait-timeout", str(int(self.health_timeout)), step="compose up"
                )
            except StackError as exc:
                raise StackError(
                    f"compose stack {self.project} did not become healthy",
                    "see the directus log tail below",
                    step=exc.step,
                    log_tail=self.logs("directus", 40),
                ) from None
        console.info(f"stack ready at {self.url} in {console.fmt_seconds(time.monotonic() - t0)}")
        return self.info

    def logs(self, service: str = "directus", lines: int = 100) -> str:
        result = subprocess.run(
            self.compose_cmd("logs", "--no-color", "--tail", str(lines), service), capture_output=True, text=True
        )
        return (result.stdout + result.stderr).strip()

    def boot_output(self) -> str:
        return self.logs("directus", 100000)

    def stop_directus(self) -> None:
        self._run("stop", "directus", step="compose stop directus")

    def boot(self) -> None:
        self._run("up", "--detach", "--wait", "directus", step="compose up directus")

    def stop(self, *, purge: bool = False) -> None:
        args = ["down", "--remove-orphans"] + (["--volumes"] if purge else [])
        if self.env_file.exists():
            subprocess.run(self.compose_cmd(*args), capture_output=True, text=True)
        if purge:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def container_id(self, service: str = "directus") -> str:
        out = self._run("ps", "--quiet", service, step="compose ps").stdout.strip()
        if not out:
            raise StackError(f"no running {service} container in compose project {self.project}", "start it with `invoke up`")
        return out.splitlines()[0]

    def running(self) -> dict[str, bool]:
        result = subprocess.run(self.compose_cmd("ps", "--services", "--status", "running"), capture_output=True, text=True)
        up = set(result.stdout.split())
        return {"postgres": "db" in up, "redis": "redis" in up, "directus": "directus" in up}
