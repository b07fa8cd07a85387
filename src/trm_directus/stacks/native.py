"""The native backend: OS PostgreSQL + PostGIS, OS Redis, Directus on Node 22 — booted by image/entrypoint.sh.

Used as a context manager for throw-away stacks (tests, drift gate, benchmarks): everything,
including the state directory, is removed on exit — also when starting failed or on SIGTERM.
A throw-away stack made `from_template=True` starts on a copy of the template database of its
inputs instead of an empty one (template.py); its boot still runs every entrypoint step.
Persistent dev stacks (`invoke up`) keep their state directory and are stopped later by `down`;
their PostgreSQL is durable (fsync on), and once created, a cluster whose data directory has
vanished is refused instead of silently re-created empty (`stack up --reset` starts over).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import console, paths
from ..errors import StackError
from ..secretfile import new_secret, write_private
from ..services import proc, timescaledb
from ..services.node import DirectusInstall, ensure_directus
from ..services.postgres import PostgresCluster
from ..services.redis import RedisServer
from . import bootlog, tally, template
from .base import StackInfo, StackLifecycle, directus_settings
from .bootlog import health
from .instances import InstanceSet

DATABASE = "directus"


class NativeStack(StackLifecycle):
    """PostgreSQL + Redis + Directus as local processes, in `state_dir` (a fresh temp dir by default)."""

    backend = "native"

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        persistent: bool = False,
        directus_port: int | None = None,
        db_port: int | None = None,
        redis_port: int | None = None,
        snapshot_path: Path | None = None,
        db_init_dir: Path | None = None,
        extensions_dir: Path | None = None,
        env: dict[str, str] | None = None,
        health_timeout: float = 180,
        from_template: bool = False,
        tree: Path | None = None,
        instances: int | None = None,
        balancer: bool | None = None,
        backups: bool | None = None,
    ) -> None:
        if from_template and persistent:
            raise StackError("a persistent (dev) stack cannot start from a template database", "drop from_template")
        self.persistent, self.from_template = persistent, from_template
        # WAL archiving into a pgBackRest repository (backup/): dev stacks by default, where pgBackRest is installed.
        self.backups = (persistent and shutil.which("pgbackrest") is not None) if backups is None else backups
        self.template: template.Template | None = None
        self.origin = "empty"  # the first boot's database: empty, template (a copy), or restart (an existing one)
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="trm-stack-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.install: DirectusInstall | None = None
        self.use_tree(tree or paths.repo_root())
        self.snapshot_path = Path(snapshot_path) if snapshot_path else self.snapshot_path
        self.db_init_dir = Path(db_init_dir) if db_init_dir else self.db_init_dir
        # Built from extensions/ into the stack unless a prepared directory is given.
        self.extensions_src = None if extensions_dir else self.extensions_src
        self.extensions_dir = Path(extensions_dir) if extensions_dir else self.state_dir / "extensions"
        self.health_timeout = health_timeout
        self.info = StackInfo.load_or_new(
            self.state_dir,
            self.backend,
            persistent=persistent,
            database=DATABASE,
            user="postgres",
            ports={"directus": directus_port, "postgres": db_port, "redis": redis_port},
        )
        if env:
            self.info.env.update(env)
        self.scale = InstanceSet.attach(self, instances, balancer)  # None: one Directus on the `directus` port
        self.info.redis_password = self.info.redis_password or new_secret(18)
        self.extra_env = self.info.env
        ports = self.info.ports
        self.postgres = PostgresCluster(
            self.state_dir,
            port=ports["postgres"],
            password=self.info.db["password"],
            durable=persistent,  # a dev stack's data must survive a crash; throw-away stacks trade that for speed
            pg_dir=Path(self.info.pg_dir) if self.info.pg_dir else None,
        )
        self.redis = RedisServer(self.state_dir, port=ports["redis"], password=self.info.redis_password)
        self.directus_process: subprocess.Popen | None = None
        self.boots = 0

    def use_tree(self, tree: Path) -> None:
        """Boot checkout `tree` from now on: its snapshot, db-init, extensions, entrypoint, Directus pin and
        boot-step code (the upgrade gate boots a base ref's checkout, then the working tree's, on one database)."""
        self.tree = Path(tree).resolve()
        self.snapshot_path = self.tree / "snapshots" / "schema.yaml"
        self.db_init_dir = self.tree / "db-init"
        self.extensions_src: Path | None = self.tree / "extensions"
        self.extensions_ready = False  # built (or taken from the cache) once per stack object and tree
        self.install = None

    # -- info -------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info.ports['directus']}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def boot_log(self) -> Path:
        return self.logs_dir / "directus.log"

    def boot_output(self) -> str:
        return self.boot_log.read_text(errors="replace") if self.boot_log.exists() else ""

    def build_output(self) -> str:
        """The log of the boot that built this stack's database from empty (the template's build, for a copy)."""
        path = self.logs_dir / "database-build.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def markers(self) -> list[str]:
        return bootlog.markers(self.boot_output())

    # -- lifecycle --------------------------------------------------------------------------------

    def refuse_vanished_database(self) -> None:
        """A persistent stack whose cluster was created and is now gone must not start on an empty one."""
        if self.persistent and self.info.pg_dir and not self.postgres.initialized:
            raise StackError(
                f"the stack's database is gone: {self.postgres.data_dir} holds no PostgreSQL cluster, but this stack "
                f"created one there (recorded in {Path(self.state_dir) / 'stack.json'}); nothing was started and no empty "
                "database was created in its place",
                "if the data lives on a disk or mount that is missing, bring it back and retry; if the stack was backed up, "
                "`python -m trm_directus restore` (or `inv restore`) restores it; to start over with an "
                "empty database: `python -m trm_directus stack up --reset` (or `inv up --reset`)",
            )

    def start(self, *, boot: bool = True) -> StackInfo:
        t0 = time.monotonic()
        self.refuse_vanished_database()
        self.install = ensure_directus(root=self.tree)
        self.origin = "restart" if self.postgres.initialized else "template" if self.from_template else "empty"
        self.template = template.prepare(self) if self.origin == "template" else None
        if self.backups:
            from ..backup import stack as backup_stack

            backup_stack.before_postgres(self)
        self.postgres.start()
        if self.backups:
            backup_stack.after_postgres(self)
        self.info.pg_dir = str(self.postgres.pg_dir)
        self.postgres.create_database(DATABASE)
        template.adopt(self)
        self.redis.start()
        # A component may have moved to another port if its first choice was taken meanwhile.
        self.info.ports.update(postgres=self.postgres.port, redis=self.redis.port)
        self.info.db["port"] = self.postgres.port
        self.info.redis_url = self.redis.url
        self.info.url = self.url
        self.info.pids = {"redis": self.redis.pid}
        self.info.save()
        if not boot:
            return self.info
        self.boot()
        console.info(f"stack ready at {self.url} in {console.fmt_seconds(time.monotonic() - t0)}")
        return self.info

    def directus_config(self, port: int | None = None) -> dict[str, str]:
        port = port or self.info.ports["directus"]
        return directus_settings(
            self.info,
            public_url=self.url,  # the balancer's with several instances
            host="127.0.0.1",
            port=port,
            extra={
                "EXTENSIONS_PATH": str(self.extensions_dir),
                # Directus bundles the admin app's extensions into TEMP_PATH, by default inside the install,
                # which every native stack shares: stacks served each other's bundle (an interface missing).
                "TEMP_PATH": str(self.state_dir / "tmp"),
                "STORAGE_LOCATIONS": "local",
                "STORAGE_LOCAL_ROOT": str(self.state_dir / "uploads"),
                **{k: v for k, v in self.extra_env.items() if not k.startswith("TRM_")},
            },
        )

    def write_config(self, config: dict[str, str], port: int | None = None) -> Path:
        """Directus prefers a config file over the environment (lessons.md): give it one we own (0600, secrets)."""
        name = "directus.env" if port in (None, self.info.ports["directus"]) else f"directus-{port}.env"
        config_path = self.state_dir / name
        write_private(config_path, "".join(f"{k}={v}\n" for k, v in config.items()))
        return config_path

    def boot_env(self, port: int | None = None) -> dict[str, str]:
        """Process environment of the entrypoint: the same settings plus the native command overrides."""
        self.install = self.install or ensure_directus(root=self.tree)
        config = self.directus_config(port)
        config_path = self.write_config(config, port)
        cli = " ".join(self.install.cli_command())
        env = {k: v for k, v in self.install.node.env().items() if not k.startswith(("DB_", "ADMIN_", "TRM_CMD_"))}
        env.update(config)
        env.update(
            {
                "CONFIG_PATH": str(config_path),
                "TRM_PYTHON": sys.executable,
                "TRM_DIRECTUS_CLI": cli,
                "TRM_DIRECTUS_MIGRATIONS_DIR": str(self.install.migrations_dir),
                "TRM_DB_INIT_DIR": str(self.db_init_dir),
                "SNAPSHOT_PATH": str(self.snapshot_path),
                # As production wherever the server has TimescaleDB; optional (plain positions, loudly) elsewhere.
                "TRM_TIMESCALEDB": timescaledb.db_init_mode(self.postgres.bindir),
                "TRM_CMD_START": f"{cli} start",
                "NODE_COMPILE_CACHE": str(self.install.root.parent / "node-compile-cache"),
            }
        )
        env.update({k: v for k, v in self.extra_env.items() if k.startswith("TRM_")})
        if self.tree != paths.repo_root().resolve():
            env["PYTHONPATH"] = str(self.tree / "src")  # the boot steps run that checkout's own toolchain
        return env

    def launch(self, port: int, log_path: Path) -> subprocess.Popen:
        """Start image/entrypoint.sh (all five steps) for a Directus on `port`, logging to `log_path`.

        boot() uses it for the stack's own Directus; more processes on other ports share the
        stack's database and Redis like replicas of one service (the concurrent-boot test)."""
        self.install = self.install or ensure_directus(root=self.tree)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "uploads").mkdir(exist_ok=True)
        self.extensions_dir.mkdir(parents=True, exist_ok=True)
        if self.extensions_src is not None and not self.extensions_ready:
            from ..directus.extensions import install_all

            built = install_all(self.extensions_src, self.extensions_dir)
            if built:
                console.info(f"extensions: {', '.join(built)}")
            self.extensions_ready = True
        entrypoint = self.tree / "image" / "entrypoint.sh"
        with open(log_path, "w") as log:
            return subprocess.Popen(
                ["bash", str(entrypoint)],
                cwd=self.install.root,
                env=self.boot_env(port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def boot(self) -> None:
        """Run image/entrypoint.sh (all five steps) and wait until /server/health answers."""
        if self.directus_process is not None and self.directus_process.poll() is None:
            raise StackError("Directus is already running in this stack", "stop_directus() first")
        self.boots += 1
        tally.record(self.origin if self.boots == 1 else "restart")
        if not timescaledb.available(self.postgres.bindir):
            console.warn(
                f"TimescaleDB is not installed for {self.postgres.bindir.parent}: db-init runs with "
                f"TRM_TIMESCALEDB=optional and positions is a plain table, unlike production; {timescaledb.INSTALL_HINT}"
            )
        if self.scale is not None:
            self.scale.boot(self.boots)
        else:
            self.boot_single()
        if self.boots == 1:
            template.after_first_boot(self)

    def boot_single(self) -> None:
        with console.step(f"boot #{self.boots}: image/entrypoint.sh -> Directus on {self.url}"):
            self.directus_process = self.launch(self.info.ports["directus"], self.boot_log)
            self.info.pids["directus"] = self.directus_process.pid
            self.info.save()
            try:
                proc.wait_until(
                    lambda: health(self.url) is not None,
                    timeout=self.health_timeout,
                    step="directus",
                    log=self.boot_log,
                    alive=lambda: self.directus_process.poll() is None,
                    interval=0.25,
                )
            except StackError:
                raise bootlog.failure(self.boot_log, self.directus_process) from None

    def stop_directus(self) -> None:
        if self.scale is not None:
            self.scale.stop()
        proc.terminate(self.directus_process)
        if self.directus_process is None:
            proc.terminate_pid(self.info.pids.get("directus"))
        self.directus_process = None
        self.info.pids.pop("directus", None)

    def stop(self, *, purge: bool = False) -> None:
        """Stop every process; with purge, delete the state (database included)."""
        self.stop_directus()
        self.redis.stop()
        proc.terminate_pid(self.info.pids.get("redis"))
        self.postgres.stop()
        self.info.pids = {}
        if purge:
            self.postgres.destroy()
            shutil.rmtree(self.state_dir, ignore_errors=True)
        elif self.state_dir.exists():
            self.info.save()

    def running(self) -> dict[str, bool]:
        services = {"postgres": self.postgres.running(), "redis": proc.pid_alive(self.info.pids.get("redis"))}
        return {**services, **(self.scale.running() if self.scale else {"directus": health(self.url) is not None})}
