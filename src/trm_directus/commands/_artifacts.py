"""Arguments and helpers shared by the system-artifact commands (`ui-*`, `access-*`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import psycopg

from .. import console, paths
from ..artifacts import artifact_file as document
from ..artifacts import registry, sync
from ..artifacts.kind import KindDiff
from ..errors import ArtifactError, ConfigError
from ..stacks import select


def add_dsn(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="PostgreSQL URL of the Directus database (default: DB_* variables, else the dev stack)")


def default_file(name: str) -> Path:
    return paths.repo_root() / "snapshots" / f"{name}.yaml"


def committed(name: str, args: argparse.Namespace) -> tuple[Path, dict]:
    """The artifact file `name` (`args.file` or snapshots/NAME.yaml), read and checked; absent or blank is an error."""
    path = args.file or default_file(name)
    doc = document.read(path, name, registry.kinds(name))
    if doc is None:
        raise ArtifactError(f"{path} is absent or blank", f"capture it first: `python -m trm_directus {name}-snapshot`")
    return path, doc


def dsn(args: argparse.Namespace) -> str:
    if args.dsn:
        return args.dsn
    if os.environ.get("DB_HOST"):
        from ..db import settings as db

        return db.resolve_dsn(None)
    stack = select.dev_stack()
    if stack is None or not stack.running()["postgres"]:
        raise ConfigError("no database to talk to", "start the dev stack (`invoke up`) or pass --dsn postgresql://…")
    return stack.info.dsn


def snapshot(name: str, args: argparse.Namespace) -> int:
    """Capture a database's artifacts of file `name` into `args.out` and list what changed since the last capture."""
    out = args.out or default_file(name)
    kinds = registry.kinds(name)
    previous = document.read(out, name, kinds) if out.exists() else None
    with console.step(f"capturing {name} artifacts"), psycopg.connect(dsn(args), autocommit=True) as conn:
        doc = sync.capture(conn, name)
    document.write(doc, out)
    console.out(f"wrote {out}: {doc.count()} (Directus {doc.directus})")
    if previous is not None:
        changes: list[str] = []
        for kind in kinds:
            before = {kind.key(i): i for i in previous.section(kind)}
            d: KindDiff = kind.diff(before, {}, doc.section(kind))
            changes += d.lines(create="added {}", update="changed {}", delete="removed {}")
        console.out(
            "changes since the previous capture:\n" + "\n".join(changes) if changes else "no changes since the previous capture"
        )
    return 0


def apply(
    name: str, args: argparse.Namespace, *, prune: bool = False, dry_run: bool = False, allow: str | None = None
) -> tuple[Path, sync.Plan]:
    """Apply the artifact file `name` to the database of `args` (or only plan it) and print the plan.
    Deletions are listed when they happen: with `prune`, or for kinds that prune by themselves (access)."""
    path, doc = committed(name, args)
    with psycopg.connect(dsn(args), autocommit=True) as conn:
        plan = sync.apply(conn, doc, prune=prune, dry_run=dry_run, allow=allow)
    console.out(f"{path}: {plan.summary()}")
    console.out(plan.render(prune=prune or all(k.prune_at_boot for k in registry.kinds(name))))
    return path, plan
