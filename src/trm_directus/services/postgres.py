"""A private PostgreSQL (+PostGIS) cluster from the OS packages: initdb, start on a free port, stop."""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from .. import console
from ..db.settings import DbSettings
from ..errors import StackError
from ..secretfile import new_secret
from . import private, proc, timescaledb

SUPERUSER = "postgres"
# Where a durable cluster goes when the unprivileged user cannot reach the stack's directory (root).
DATA_ROOT_SETTING = "TRM_PG_DATA_ROOT"
DEFAULT_DATA_ROOT = "/var/lib/trm-directus"


def find_bindir() -> Path:
    """The bin directory of the newest PostgreSQL whose PostGIS is installed (or TRM_PG_BINDIR)."""
    override = os.environ.get("TRM_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for bindir in candidates:
        version = Path(bindir).parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return Path(bindir)
    if candidates:
        return Path(candidates[0])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise StackError(
        "no PostgreSQL server binaries found (initdb)",
        "install them: apt-get install postgresql-15 postgresql-15-postgis-3 (or set TRM_PG_BINDIR)",
    )


def postgis_available(bindir: Path) -> bool:
    version = bindir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


class PostgresCluster:
    """One cluster in `base_dir/postgres`, owned by the unprivileged user when running as root.

    Its directory (data, socket, log) is private: mode 0700, owned by root or the cluster's user,
    never a symlink (private.py). The server listens on 127.0.0.1 only, with a password (random
    unless given) for TCP and peer authentication on the socket, so other local accounts get in
    neither way. A `durable` cluster (dev stack) keeps fsync and synchronous_commit on; a
    throw-away one turns them off for speed.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        port: int | None = None,
        password: str | None = None,
        durable: bool = False,
        pg_dir: Path | None = None,
        bindir: Path | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.port = port
        self.password = password or new_secret(18)
        self.durable = durable
        self.pg_dir = Path(pg_dir) if pg_dir else self._pick_pg_dir()
        self.data_dir = self.pg_dir / "data"
        self.log = self.pg_dir / "postgres.log"
        self.source: tuple[Path, str] | None = None  # (data directory, its superuser password): clone_from()
        self.extra_settings: dict[str, str] = {}  # more server settings (WAL archiving: backup/repo.py)

    def clone_from(self, data_dir: Path, password: str) -> None:
        """Start as a copy of a stopped cluster (a template, stacks/template.py) instead of running initdb;
        the copy's superuser password (the template's) is replaced by this cluster's when it first starts."""
        self.source = (Path(data_dir), password)

    def _pick_pg_dir(self) -> Path:
        """`base_dir/postgres`, unless (as root) the unprivileged user cannot reach it (a checkout under
        /root, pytest's 0700 temp dirs). Then a durable cluster goes under TRM_PG_DATA_ROOT (default
        /var/lib/trm-directus; /tmp is emptied on reboot), a throw-away one into a fresh private temp
        directory (random name, 0700) that destroy() removes. Never a predictable name under /tmp."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if proc.user_can_reach(self.base_dir / "postgres"):
            return self.base_dir / "postgres"
        if self.durable:
            key = hashlib.sha256(str(self.base_dir.resolve()).encode()).hexdigest()[:12]
            return Path(os.environ.get(DATA_ROOT_SETTING) or DEFAULT_DATA_ROOT) / f"pg-{key}"
        return private.fresh_dir("trm-pg-")

    @property
    def settings(self) -> DbSettings:
        assert self.port is not None, "cluster not started"
        return DbSettings(host="127.0.0.1", port=self.port, database="postgres", user=SUPERUSER, password=self.password)

    def dsn(self, database: str = "postgres") -> str:
        return self.settings.with_database(database).dsn

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)

    def init(self) -> None:
        if self.initialized:
            private.check_dir(self.pg_dir, proc.stack_user())  # reused: still ours, still private
            return
        if not postgis_available(self.bindir):
            console.warn(
                f"PostGIS is not installed for {self.bindir}: apt-get install postgresql-{self.bindir.parent.name}-postgis-3"
            )
        if self.durable and self.pg_dir.parent != self.base_dir:
            private.ensure_shared_root(self.pg_dir.parent)
        private.ensure_dir(self.pg_dir, proc.stack_user())
        if self.source is not None:
            proc.give_to_user(self.pg_dir)
            with console.step(f"copying the template cluster {self.source[0].parent.name} (instead of initdb)"):
                # -a keeps the owner (the cluster's user, when root runs this) and the 0700 modes PostgreSQL requires
                proc.run(["cp", "-a", str(self.source[0]), str(self.data_dir)], step="copy template cluster")
            return
        pwfile = self.pg_dir / "pwfile"
        pwfile.unlink(missing_ok=True)  # left by an interrupted initdb; the directory is ours and private
        private.write_secret(pwfile, self.password + "\n")
        proc.give_to_user(self.pg_dir)
        with console.step(f"initdb {self.data_dir}"):
            proc.run(
                [
                    *proc.as_user_prefix(),
                    self._bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    *([] if self.durable else ["--no-sync"]),
                ],
                step="initdb",
            )
        pwfile.unlink()

    def _conf_args(self) -> str:
        opts = {
            **timescaledb.server_settings(self.bindir),  # an install that has it must preload it (else FATAL)
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.pg_dir}'",
            "max_connections": "200",
            "shared_buffers": "128MB",
        }
        if not self.durable:
            # Throw-away stacks: durability costs seconds and buys nothing.
            opts |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        opts |= self.extra_settings
        return " ".join(f"-c {k}={v}" for k, v in opts.items())

    def start(self, timeout: float = 60) -> None:
        self.init()
        if self.port is None:
            self.port = proc.free_port()
        if self.running():
            return
        try:
            self._start(timeout)
        except StackError:
            if not any(m in proc.tail(self.log) for m in ("could not bind", "Address already in use")):
                raise
            # Someone took the port between choosing and binding it: choose again, once.
            self.port = proc.free_port()
            self._start(timeout)
        if self.source is not None:
            self._take_over_password()

    def _take_over_password(self) -> None:
        """A copied cluster answers to the template's password until it has this cluster's own."""
        template = dataclasses.replace(self.settings, password=self.source[1])
        with psycopg.connect(template.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SUPERUSER), sql.Literal(self.password)))
        self.source = None

    def _start(self, timeout: float) -> None:
        with console.step(f"postgres on 127.0.0.1:{self.port}"):
            try:
                proc.run(
                    [
                        *proc.as_user_prefix(),
                        self._bin("pg_ctl"),
                        "-D",
                        str(self.data_dir),
                        "-l",
                        str(self.log),
                        "-o",
                        self._conf_args(),
                        "-w",
                        "-t",
                        str(int(timeout)),
                        "start",
                    ],
                    step="postgres start",
                    log=self.log,
                    timeout=timeout + 10,
                )
            except StackError as exc:
                raise StackError(
                    f"PostgreSQL did not start on port {self.port}",
                    "see the log tail below; a port clash means another server took the port: retry",
                    step="postgres",
                    log_tail=proc.tail(self.log),
                ) from exc

    def running(self) -> bool:
        if not self.initialized:
            return False
        result = subprocess.run(
            [*proc.as_user_prefix(), self._bin("pg_ctl"), "-D", str(self.data_dir), "status"], capture_output=True, text=True
        )
        return result.returncode == 0

    def stop(self) -> None:
        if self.running():
            subprocess.run(
                [*proc.as_user_prefix(), self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"],
                capture_output=True,
                text=True,
            )

    def destroy(self) -> None:
        """Stop and delete the cluster's directory (data, socket, log)."""
        self.stop()
        shutil.rmtree(self.pg_dir, ignore_errors=True)

    def create_database(self, name: str, *, drop: bool = False, template: str | None = None) -> str:
        """Create a database (dropping it first when asked) and return its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            if drop:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                tmpl = f' TEMPLATE "{template}"' if template else ""
                conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
