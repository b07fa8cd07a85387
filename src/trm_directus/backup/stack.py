"""Backups of a native stack: WAL archiving while it runs, `backup now`, and restore in place or into a new stack.

A restore never deletes: the current data directory and uploads are renamed
`*.before-restore-<UTC time>` beside themselves. The restored cluster replays the archived WAL
(all of it, or up to `--to`), is promoted, and only then does Directus boot on it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from .. import console
from ..errors import StackError
from ..services import proc
from . import repo as pgbr
from . import uploads

PROMOTE_TIMEOUT = 1800  # replaying a day of WAL on this machine takes minutes, not half an hour


def repo_of(stack) -> pgbr.Repo:
    return pgbr.Repo(stack.postgres, Path(stack.info.backup_repo) if stack.info.backup_repo else None)


def before_postgres(stack) -> None:
    """Archive every WAL segment of the stack's cluster into its repository (recorded in stack.json)."""
    repo = repo_of(stack)
    stack.info.backup_repo = str(repo.path)
    stack.postgres.extra_settings = repo.server_settings()
    stack.postgres.init()
    repo.prepare()


def after_postgres(stack) -> None:
    """Wait for a restored cluster to finish recovery, checkpoint, then make sure the stanza exists."""
    wait_promoted(stack.postgres)
    # PostgreSQL 15's checkpointer, asleep for checkpoint_timeout since recovery, ignores archive_timeout
    # after the promotion until its next checkpoint: 150 s of writes were lost to a kill -9 that way
    # (bench backup). A checkpoint wakes it, and archive_timeout holds from then on. Every start gets one:
    # whether this start replayed WAL cannot be told from outside when recovery ended before the first
    # successful connection (a loaded machine: the checkpoint was skipped and nothing was archived).
    with psycopg.connect(stack.postgres.dsn(), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    repo_of(stack).ensure_stanza()


def in_recovery(cluster) -> bool:
    with psycopg.connect(cluster.dsn(), autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]


def wait_promoted(cluster, timeout: float = PROMOTE_TIMEOUT) -> None:
    """Wait until the cluster accepts writes (a restore replays WAL first)."""
    # an error (not yet consistent) counts as not yet: wait_until retries
    proc.wait_until(
        lambda: not in_recovery(cluster), timeout=timeout, step="recovery (WAL replay)", log=cluster.log, interval=0.5
    )


def backup_now(stack, kind: str = "incr") -> dict:
    """One backup of the running stack (pgBackRest makes the first one full) and its uploads; the new backup's info."""
    repo = repo_of(stack)
    with console.step(f"pgBackRest {kind} backup of {stack.postgres.data_dir} into {repo.path}"):
        repo.backup(kind)
    copied = uploads.mirror(stack.state_dir / "uploads", repo.path)
    console.info(f"uploads: {copied} new file(s) copied to {repo.path / 'uploads'}")
    return repo.info()["backup"][-1]


def aside_suffix() -> str:
    return "before-restore-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def restore_in_place(stack, target: str | None = None) -> dict[str, Path | None]:
    """Replace the stack's database (and uploads) with the repository's, then boot Directus on it."""
    repo = repo_of(stack)
    if not repo.conf.exists():
        raise StackError(
            f"this stack has no backup repository ({repo.conf} is missing)", "run `python -m trm_directus backup` first"
        )
    suffix = aside_suffix()
    with console.step("stopping the stack (Directus, Redis, PostgreSQL)"):
        stack.stop()
    data = stack.postgres.data_dir
    aside = None
    if data.exists():
        aside = data.with_name(f"{data.name}.{suffix}")
        proc.run(["mv", str(data), str(aside)], step="move the current data directory aside")
        console.info(f"the current data directory was moved aside to {aside} (not deleted)")
    with console.step(f"pgBackRest restore into {data}" + (f" up to {target}" if target else " (all archived WAL)")):
        repo.restore(data, target)
    moved_uploads = uploads.restore(repo.path, stack.state_dir / "uploads", suffix)
    start_restored(stack)
    return {"data_aside": aside, "uploads_aside": moved_uploads}


def start_restored(stack) -> None:
    """Start a stack whose cluster was just restored, and say when it is healthy."""
    t0 = time.monotonic()
    stack.start()  # PostgreSQL replays WAL and is promoted (after_postgres) before Directus boots
    console.info(f"restored stack healthy at {stack.url} in {console.fmt_seconds(time.monotonic() - t0)}")


def describe(info: dict) -> list[str]:
    """`backup list`: one line per backup and the window a point-in-time restore can reach."""
    lines = []
    for b in info.get("backup", []):
        start, stop = (datetime.fromtimestamp(b["timestamp"][k], UTC) for k in ("start", "stop"))
        size, stored = b["info"]["size"], b["info"]["repository"]["delta"]
        lines.append(
            f"{b['label']:<34} {b['type']:<5} {start:%Y-%m-%d %H:%M:%S} → {stop:%H:%M:%S} UTC  "
            f"database {size / 2**20:8.1f} MiB  stored {stored / 2**20:8.1f} MiB"
        )
    archive = (info.get("archive") or [{}])[0]
    if lines and archive.get("max"):
        first = datetime.fromtimestamp(info["backup"][0]["timestamp"]["stop"], UTC)
        lines.append(f"restorable: any time from {first:%Y-%m-%d %H:%M:%S} UTC to the last archived WAL ({archive['max']})")
    return lines or ["no backups yet: `python -m trm_directus backup`"]
