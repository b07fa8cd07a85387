"""A cluster's pgBackRest repository: its configuration, WAL archiving settings, and the commands.

pgBackRest runs as the cluster's user (it reads the data directory and is run by PostgreSQL's
`archive_command`), with a configuration file beside the cluster (never /etc, several stacks
share a machine) and its lock and log files in the cluster's private directory (its defaults
under /tmp are shared with every other stack). The repository is outside the data directory.

Defaults for an event (docs/how-to/back-up-and-restore.md): a full backup each night between stages, incremental
ones during the day; full backups are kept for 14 days (`repo1-retention-full-type=time`), so any
moment of a rally week and of the week of protests and appeals after it can be restored; WAL is
switched at least every `archive_timeout` (30 s) so that a lost disk loses at most that much of
committed writes (the recovery point, measured by `bench backup`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import StackError
from ..services import private, proc

STANZA = "trm"
RETENTION_FULL_DAYS = 14
ARCHIVE_TIMEOUT_SETTING = "TRM_BACKUP_ARCHIVE_TIMEOUT"
ARCHIVE_TIMEOUT = 30
REPO_SETTING = "TRM_BACKUP_REPO"
KINDS = ("full", "diff", "incr")
INSTALL_HINT = "install pgBackRest: apt-get install pgbackrest (bash .ci/prereqs does it)"


def binary() -> str:
    found = shutil.which("pgbackrest")
    if not found:
        raise StackError("pgBackRest is not installed", INSTALL_HINT)
    return found


def available() -> bool:
    return shutil.which("pgbackrest") is not None


class Repo:
    """pgBackRest for one PostgresCluster: repository `path` (default: beside the data directory)."""

    def __init__(self, cluster, path: Path | None = None) -> None:
        self.cluster = cluster
        self.path = Path(path or os.environ.get(REPO_SETTING) or cluster.pg_dir / "backups")
        self.conf = cluster.pg_dir / "pgbackrest.conf"
        self.work = cluster.pg_dir / "pgbackrest"  # log and lock files

    def server_settings(self) -> dict[str, str]:
        """PostgreSQL settings that archive every WAL segment into the repository."""
        timeout = int(os.environ.get(ARCHIVE_TIMEOUT_SETTING) or ARCHIVE_TIMEOUT)
        command = f"{binary()} --config={self.conf} --stanza={STANZA} archive-push %p"
        return {
            "wal_level": "replica",
            "archive_mode": "on",
            "archive_command": f"'{command}'",
            "archive_timeout": str(timeout),
        }

    def config_text(self) -> str:
        c = self.cluster
        return "\n".join(
            [
                "[global]",
                f"repo1-path={self.path}",
                "repo1-retention-full-type=time",
                f"repo1-retention-full={RETENTION_FULL_DAYS}",
                "compress-type=zst",
                "compress-level=3",
                "process-max=2",
                "start-fast=y",
                "archive-check=y",
                f"log-path={self.work}",
                f"lock-path={self.work}",
                "log-level-console=warn",
                "log-level-file=info",
                "",
                f"[{STANZA}]",
                f"pg1-path={c.data_dir}",
                f"pg1-port={c.port or 5432}",
                f"pg1-socket-path={c.pg_dir}",
                "pg1-user=postgres",
                "",
            ]
        )

    def prepare(self) -> None:
        """Write the configuration and create the repository and work directories (the cluster's user owns them)."""
        for d in (self.path, self.work):
            private.ensure_dir(d, proc.stack_user())
            proc.give_to_user(d)
        self.conf.unlink(missing_ok=True)
        private.write_secret(self.conf, self.config_text())
        proc.give_to_user(self.conf)

    def run(self, *args: str, timeout: float = 3600, step: str = "pgbackrest") -> subprocess.CompletedProcess[str]:
        cmd = [*proc.as_user_prefix(), binary(), f"--config={self.conf}", f"--stanza={STANZA}", *args]
        return proc.run(cmd, step=f"{step} ({args[0]})", timeout=timeout, log=self.work / f"{STANZA}-{args[0]}.log")

    def ensure_stanza(self) -> None:
        """Create the stanza (idempotent: an existing one for this cluster is kept)."""
        self.prepare()
        self.run("stanza-create", timeout=120)

    def backup(self, kind: str = "incr") -> None:
        if kind not in KINDS:
            raise StackError(f"unknown backup kind {kind!r}", f"choose one of {', '.join(KINDS)}")
        self.prepare()
        self.run(f"--type={kind}", "backup")

    def check(self) -> None:
        """Switch WAL and wait until the segment is archived (pgBackRest's own end-to-end check)."""
        self.run("check", timeout=120)

    def info(self) -> dict:
        """pgBackRest's description of the stanza (backups, WAL range), {} when there is none yet."""
        if not self.conf.exists():
            return {}
        out = self.run("--output=json", "info", timeout=60).stdout
        found = json.loads(out or "[]")
        return found[0] if found else {}

    def restore(self, data_dir: Path, target: str | None = None) -> None:
        """Restore into `data_dir` (absent or empty): the newest backup and all archived WAL, or up to `target`
        (a timestamp with time zone) with the newest backup that ended before it; promoted at the end."""
        args = [f"--pg1-path={data_dir}", "--archive-mode=preserve"]
        if target:
            args += ["--type=time", f"--target={target}", "--target-action=promote", "--target-exclusive"]
        self.run(*args, "restore", step="pgbackrest restore")
