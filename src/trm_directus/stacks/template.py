"""Template databases: the database a fresh boot builds, built once per machine and inputs, copied in a second.

A throw-away native stack created with `from_template=True` does not run boot steps 1-4 on an
empty database. It starts PostgreSQL on a copy of a *template cluster*: a stopped cluster whose
database `directus` went through exactly those steps (db-init pre, bootstrap, schema apply with
the access and UI artifacts, db-init post) for the same inputs (template_key.py). The first such
stack of a machine (and of every run whose inputs changed) builds it: the real entrypoint on an
empty database, with the start command replaced by `true`.

Where: `<cache>/templates/<key>/` (`data/`: the data directory; `manifest.json`, 0600: the inputs,
the credentials it was built with; `build.log`: the entrypoint's output). The cache directory is
per user and machine, so a developer pays the build once per change of an input, and CI once per
run (its runners start empty). Each stack keeps its own private cluster: the copy is a file copy
of the stopped cluster (`cp -a`, about 0.5 s for ~190 MB), which also replaces initdb. Two runs at
once share only read-only files: a build takes a file lock per key (the other run waits, then
finds it built), a finished template is published by one rename, and clones copy without a lock.

TimescaleDB: its background workers (the launcher's scheduler per database) hold a connection to
a running database, which is what blocks `CREATE DATABASE … TEMPLATE`. A template is never copied
while it runs: the build stops its cluster cleanly (shutdown checkpoint, workers gone) before the
rename that publishes it; each copy then starts its own scheduler like any database.

Stale templates: the key covers every input, and a clone's first boot still runs the whole
entrypoint, each step of which re-checks the database; `verify_idle_boot` requires that every step
found nothing to do. A template whose clone did work is deleted and the boot fails, naming it.
Templates not used for a day are removed when a new one is published.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import console
from ..errors import StackError
from ..secretfile import write_private
from ..services import private, proc
from ..services.node import cache_root
from . import tally
from .template_key import Inputs, key

BUILD_TIMEOUT = float(os.environ.get("TRM_TEMPLATE_BUILD_TIMEOUT_SECONDS", "900"))
KEEP_UNUSED_SECONDS = 24 * 3600


def root() -> Path:
    return cache_root() / "templates"


@dataclass(frozen=True)
class Template:
    path: Path
    manifest: dict

    @property
    def key(self) -> str:
        return self.path.name

    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    @property
    def build_log(self) -> Path:
        return self.path / "build.log"

    @classmethod
    def load(cls, path: Path) -> Template | None:
        manifest = path / "manifest.json"
        if not (manifest.is_file() and (path / "data" / "PG_VERSION").is_file()):
            return None
        return cls(path, json.loads(manifest.read_text()))

    def touch(self) -> None:
        """Record a use (pruning keeps templates used within a day)."""
        (self.path / "used").touch()


def ensure(inputs: Inputs, build: Callable[[Path], dict]) -> Template:
    """The template for `inputs`; built (by `build(staging_dir)`, which returns the credentials) when missing."""
    name = key(inputs)
    base = private.ensure_dir(root())
    found = Template.load(base / name)
    if found is None:
        with private.file_lock(base / f"{name}.lock", f"template build lock ({name})", BUILD_TIMEOUT + 60):
            found = Template.load(base / name) or _build(base, name, inputs, build)
    found.touch()
    return found


def _build(base: Path, name: str, inputs: Inputs, build: Callable[[Path], dict]) -> Template:
    staging = private.fresh_dir(f".{name}.partial-", base)
    t0 = time.monotonic()
    try:
        with console.step(f"building template database {name} (boot steps 1-4 on an empty database, once per inputs)"):
            credentials = build(staging)
        manifest = {
            "key": name,
            "inputs": inputs.parts(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.monotonic() - t0, 1),
            **credentials,
        }
        write_private(staging / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(base / name, ignore_errors=True)  # what an interrupted deletion left (we hold the lock)
        staging.rename(base / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    tally.record("template-build")
    prune(base, keep=name)
    return Template(base / name, manifest)


def prune(base: Path, keep: str) -> None:
    """Remove templates unused for a day and builds left half-done by a killed process."""
    now = time.time()
    for path in base.iterdir():
        if not path.is_dir() or path.name == keep:
            continue
        stamp = path / "used" if (path / "used").exists() else path
        if now - stamp.stat().st_mtime > KEEP_UNUSED_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
            (base / f"{path.name}.lock").unlink(missing_ok=True)


# Every step of a boot on a database that already holds what the inputs give: what each prints.
IDLE_STEPS = {
    "db-init pre": "db-init pre: 0 applied",
    "bootstrap": "bootstrap has nothing to do, skipped",
    "db-init post": "db-init post: 0 applied",
}


def idle_boot_problems(log: str, schema: bool, artifacts: list[str]) -> list[str]:
    """The steps of a boot log that did work (empty when every step found nothing to do)."""
    from ..artifacts.sync import MSG_UNCHANGED as ARTIFACTS_UNCHANGED
    from ..schema.apply import MSG_UNCHANGED

    expected = dict(IDLE_STEPS)
    if schema:
        expected["schema apply"] = MSG_UNCHANGED
    expected |= {f"{name} artifacts": f"{name} artifacts: {ARTIFACTS_UNCHANGED}" for name in artifacts}
    return [step for step, line in expected.items() if line not in log]


def verify_idle_boot(template: Template, log: str, schema: bool, artifacts: list[str]) -> None:
    """Refuse (and delete) a template whose clone's first boot had work to do: it did not match its inputs."""
    problems = idle_boot_problems(log, schema, artifacts)
    if not problems:
        return
    shutil.rmtree(template.path, ignore_errors=True)
    raise StackError(
        f"template database {template.key} was stale: the first boot of its copy did work in {', '.join(problems)}; "
        "the template was deleted",
        "an input of the database is missing from the template key (stacks/template_key.py): add it; "
        "the next boot builds a new template",
        step="template",
        log_tail=log[-3000:],
    )


# -- a native stack's side (stacks/native.py calls these) ------------------------------------------


def inputs_of(stack) -> Inputs:
    return Inputs(
        snapshot_path=stack.snapshot_path,
        db_init_dir=stack.db_init_dir,
        extensions=stack.extensions_src or stack.extensions_dir,
        bindir=stack.postgres.bindir,
        env=dict(stack.extra_env),
    )


def prepare(stack) -> Template:
    """Before the stack's PostgreSQL first starts: the template (built if needed) that its cluster copies."""
    found = ensure(inputs_of(stack), lambda staging: build_like(stack, staging))
    stack.postgres.clone_from(found.data_dir, found.manifest["db_password"])
    return found


def adopt(stack) -> None:
    """After the copy started: the stack's own static token; the template's admin password (stored with it, 0600)."""
    import psycopg

    found = stack.template
    if found is None:
        return
    stack.info.admin_password = found.manifest["admin_password"]
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        conn.execute("UPDATE directus_users SET token = %s WHERE email = %s", (stack.info.admin_token, stack.info.admin_email))
    stack.logs_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(found.build_log, stack.logs_dir / "database-build.log")


def after_first_boot(stack) -> None:
    """A copy's first boot must have found nothing to do; a fresh database's first boot log is its build log."""
    from ..schema import snapshot

    found = stack.template
    if found is None:
        if stack.origin == "empty":
            shutil.copyfile(stack.boot_log, stack.logs_dir / "database-build.log")
        return
    artifacts = [name for name, path in inputs_of(stack).artifact_paths().items() if path.exists()]
    verify_idle_boot(found, stack.boot_output(), snapshot.read(stack.snapshot_path) is not None, artifacts)


def build_like(stack, staging: Path) -> dict:
    """Build the template of `stack`'s inputs in `staging`: a throw-away stack with the same inputs runs
    image/entrypoint.sh on an empty database with `true` as the start command; its cluster, stopped, is the template.
    The builder is a stack of `stack`'s own class (a NativeStack: this module is below native.py, which imports it)."""
    builder = type(stack)(
        staging / "stack",
        snapshot_path=stack.snapshot_path,
        db_init_dir=stack.db_init_dir,
        extensions_dir=None if stack.extensions_src else stack.extensions_dir,
        env={**stack.extra_env, "TRM_CMD_START": "true"},
    )
    run = None
    try:
        builder.start(boot=False)
        run = builder.launch(builder.info.ports["directus"], builder.boot_log)
        try:
            rc = run.wait(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        shutil.copyfile(builder.boot_log, staging / "build.log")
        if rc != 0 or "[entrypoint] 5/5 start" not in builder.boot_output():
            raise StackError(
                "building the template database failed: "
                + (f"boot steps 1-4 did not end within {BUILD_TIMEOUT:g}s" if rc is None else f"the entrypoint exited {rc}"),
                "fix what the log names: a boot from an empty database fails the same way (log tail below)",
                step="template",
                log_tail=proc.tail(builder.boot_log, 40),
            )
        builder.redis.stop()
        builder.postgres.stop()  # a clean shutdown: checkpoint written, TimescaleDB's workers gone
        # mv, not shutil.move: across file systems it must keep the owner (the cluster's user, when root builds)
        proc.run(["mv", str(builder.postgres.data_dir), str(staging / "data")], step="store template cluster")
        return {"admin_email": builder.info.admin_email, "admin_password": builder.info.admin_password,
                "db_password": builder.info.db["password"]}  # fmt: skip
    finally:
        proc.terminate(run)
        builder.stop(purge=True)
