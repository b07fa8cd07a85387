"""Boot steps 1-4 under one database lock (`boot-steps`, called by image/entrypoint.sh).

Containers (or native stacks) that start together on one database must not run db-init,
Directus's bootstrap or the schema apply at the same time. `boot-steps`:
1. waits for the database (DB_INIT_TIMEOUT_SECONDS) and, when REDIS is set, for Redis
   (TRM_REDIS_TIMEOUT_SECONDS: Directus exits without it, see redis_wait.py);
2. takes the session advisory lock locks.BOOT_LOCK_ID on its own connection, waiting at most
   TRM_BOOT_LOCK_TIMEOUT_SECONDS and naming the holder (pid, application_name, query) meanwhile;
3. runs the four step commands (TRM_CMD_MIGRATE_PRE, TRM_CMD_BOOTSTRAP, TRM_CMD_SCHEMA_APPLY,
   TRM_CMD_MIGRATE_POST, set by the entrypoint) one after the other, each announced, timed and
   named on failure with the entrypoint's `[entrypoint] N/5 …` markers;
4. releases the lock when the steps end, fail or are interrupted; if the process is killed, its
   session ends and the server releases the lock.
Re-check after the lock: each step reads the database afresh, so a boot that waited for another
finds its work done and skips it (db-init applies 0 files, bootstrap has nothing to do, the schema
step takes its unchanged fast path). The db-init runner inside steps 1 and 4 takes its own lock
(another key, another session): a boot never waits for itself.

A step whose command is this package's own CLI on this very interpreter (`<python> -m trm_directus
…`, what the entrypoint sets unless overridden) runs inside this process: the same code, output and
exit code, without starting Python and importing the package again for each step (about a third
of a second each on an idle machine, more under load; issue 23). Any other command runs in a shell.

On an empty database the Directus CLI processes of steps 2 and 3 are started ahead of their turn
(directus/cli.py `prewarm`): each loads Directus (~2.5 s of a core) while the step before it runs.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping

import psycopg

from .. import console, deadlines, signals
from ..db import locks
from ..db import settings as db
from ..directus import cli as directus_cli
from ..errors import ConfigError, TrmError
from . import bootstrap, redis_wait

STEPS = (
    (1, "db-init pre-schema", "TRM_CMD_MIGRATE_PRE"),
    (2, "bootstrap", "TRM_CMD_BOOTSTRAP"),
    (3, "schema apply", "TRM_CMD_SCHEMA_APPLY"),
    (4, "db-init post-schema", "TRM_CMD_MIGRATE_POST"),
)


def marker(text: str) -> None:
    """An entrypoint marker line (stacks and tests read these from the boot log)."""
    print(f"[entrypoint] {text}", flush=True)


def step_commands(env: Mapping[str, str]) -> list[tuple[int, str, str]]:
    missing = [var for _, _, var in STEPS if not env.get(var, "").strip()]
    if missing:
        raise ConfigError(
            f"boot-steps needs the four step commands; not set: {', '.join(missing)}",
            "run it through image/entrypoint.sh, which sets TRM_CMD_* (or set them yourself)",
        )
    return [(n, name, env[var]) for n, name, var in STEPS]


def own_cli_args(command: str) -> list[str] | None:
    """The arguments when `command` is `<this interpreter> -m trm_directus …` (shell syntax), else None."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if len(argv) < 4 or argv[1:3] != ["-m", "trm_directus"] or any(c in command for c in ";|&$`<>"):
        return None
    exe = shutil.which(argv[0])
    if exe is None or os.path.realpath(exe) != os.path.realpath(sys.executable):
        return None
    return argv[3:]


def _in_process(args: list[str]) -> int:
    from .. import cli

    try:
        return cli.main(args)
    except SystemExit as exc:  # argparse and `raise SystemExit(n)` end a command like its process would
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _in_shell(command: str) -> int:
    child = subprocess.Popen(["bash", "-c", command], stdin=subprocess.DEVNULL, preexec_fn=signals.die_with_parent)
    try:
        return child.wait()
    except BaseException:
        child.terminate()  # interrupted: the step stops with us (its own clean-up runs on SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=15)
        child.kill()
        raise


def run_step(n: int, name: str, command: str) -> int:
    """Run one step (in this process when it is our own CLI, else in a shell); announce, time, name it when it fails."""
    marker(f"{n}/5 {name}")
    t0 = time.monotonic()
    args = own_cli_args(command)
    rc = _in_process(args) if args is not None else _in_shell(command)
    took = round((time.monotonic() - t0) * 1000)
    if rc != 0:
        marker(f"FAILED at step {n}/5 ({name}) with exit code {rc} after {took}ms; Directus was not started")
        return rc
    marker(f"{n}/5 {name} done in {took}ms")
    return 0


def _keep_alive(conn: psycopg.Connection) -> None:
    """The lock's session idles while the steps run: server-side idle timeouts must not end it."""
    for setting in ("idle_session_timeout", "idle_in_transaction_session_timeout"):
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT set_config(%s, '0', false)", (setting,))


def run_steps(env: Mapping[str, str] | None = None) -> int:
    """Steps 1-4 under the boot lock; the exit code of the first failing step, else 0."""
    env = os.environ if env is None else env
    commands = step_commands(env)
    dsn = db.DbSettings.from_env(env).dsn
    try:
        conn = db.wait_for(dsn, deadlines.DATABASE.seconds(env), role="trm-boot-steps")
    except TrmError:
        marker("FAILED before step 1/5: the database did not answer; Directus was not started")
        raise
    with conn:
        redis = redis_wait.RedisTarget.from_env(env)
        if redis is not None:
            try:
                redis_wait.wait_for(redis, deadlines.REDIS.seconds(env), deadlines.REDIS.setting)
            except TrmError:
                marker("FAILED before step 1/5: Redis did not answer; Directus was not started")
                raise
        _keep_alive(conn)
        lock = locks.AdvisoryLock(
            conn, locks.BOOT_LOCK_ID, "boot lock", deadlines.BOOT_LOCK, timeout=deadlines.BOOT_LOCK.seconds(env)
        )
        try:
            lock.__enter__()
        except TrmError:
            marker("FAILED before step 1/5: the boot lock was not free in time; Directus was not started")
            raise
        try:
            if lock.waited >= 0.5:
                console.info(
                    f"boot lock taken after waiting {console.fmt_seconds(lock.waited)} for {locks.describe(lock.holders)}: "
                    "each step re-checks the database and skips what that boot already did"
                )
            else:
                console.info(f"boot lock {locks.BOOT_LOCK_ID} taken: steps 1-4 run while this boot holds it")
            if not bootstrap.directus_installed(conn):
                # An empty database: the bootstrap and the schema apply will each call Directus's CLI.
                # Their processes load Directus meanwhile (db-init, then the bootstrap runs).
                directus_cli.prewarm(sum(own_cli_args(c) is not None for n, _, c in commands if n in (2, 3)))
            for n, name, command in commands:
                rc = run_step(n, name, command)
                if rc:
                    return rc
        finally:
            directus_cli.discard_spares()
            lock.__exit__()
    return 0
