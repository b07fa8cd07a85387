"""Boot step 2: Directus `bootstrap` (system tables, its own migrations, the first admin user).

On a database Directus already installed, bootstrap only runs Directus's pending migrations. When
the installed Directus's migration files are all recorded in directus_migrations, that is nothing,
and the call (a full Directus start-up, ~6 s here) is skipped and says so.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg

from .. import console
from ..directus import cli as directus_cli
from ..errors import StackError

_MIGRATION_FILE = re.compile(r"^(?P<version>[0-9]+[A-Z])-[^.]+\.(?:js|ts)$")
_CUSTOM_MIGRATION_FILE = re.compile(r"^(?P<version>[^-]+)-.*\.(?:c|m)?js$")


def migration_versions(migrations_dir: Path, custom_dir: Path | None) -> set[str]:
    versions = {m.group("version") for f in os.listdir(migrations_dir) if (m := _MIGRATION_FILE.match(f))}
    if custom_dir and custom_dir.is_dir():
        versions |= {m.group("version") for f in os.listdir(custom_dir) if (m := _CUSTOM_MIGRATION_FILE.match(f))}
    return versions


def pending_directus_migrations(dsn: str, migrations_dir: Path, custom_dir: Path | None) -> set[str] | None:
    """Versions not yet recorded; None when Directus is not installed on the database at all."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        installed = conn.execute(
            "SELECT to_regclass('directus_collections') IS NOT NULL AND to_regclass('directus_migrations') IS NOT NULL"
        ).fetchone()[0]
        if not installed:
            return None
        done = {r[0] for r in conn.execute("SELECT version FROM directus_migrations")}
    return migration_versions(migrations_dir, custom_dir) - done


def directus_installed(conn: psycopg.Connection) -> bool:
    """Whether Directus's system tables exist in the database (its bootstrap ran)."""
    return conn.execute("SELECT to_regclass('directus_collections') IS NOT NULL").fetchone()[0]


def bootstrap(dsn: str, *, migrations_dir: Path | None, custom_dir: Path | None, force: bool = False) -> str:
    """Run Directus's bootstrap unless it provably has nothing to do; returns what happened."""
    if not force and migrations_dir and migrations_dir.is_dir():
        pending = pending_directus_migrations(dsn, migrations_dir, custom_dir)
        if pending == set():
            total = len(migration_versions(migrations_dir, custom_dir))
            console.info(
                f"Directus is installed and all {total} of its migrations are recorded: bootstrap has nothing to do, skipped"
            )
            return "skipped"
        if pending is not None:
            console.info(f"{len(pending)} Directus migration(s) pending: {', '.join(sorted(pending)[:5])}")
    result = directus_cli.run("bootstrap")
    directus_cli.require_ok(result, "bootstrap", must_contain="Done")
    with psycopg.connect(dsn, autocommit=True) as conn:
        installed = directus_installed(conn)
    if not installed:
        raise StackError(
            "Directus bootstrap reported success but directus_collections does not exist",
            "see the bootstrap output above",
            step="bootstrap",
            log_tail=result.output[-3000:],
        )
    console.info(f"Directus bootstrap finished in {console.fmt_seconds(result.seconds)}")
    return "installed" if "Installing Directus system tables" in result.output else "migrated"


def ensure_project_owner(dsn: str, owner: str | None) -> bool:
    """Directus reads PROJECT_OWNER only when it installs a database; a database installed without
    one keeps blocking the first admin login with the licence dialog (lessons.md). Set it when the
    settings have none; an owner already recorded is never replaced. True when it was set."""
    if not owner or "@" not in owner:
        return False
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT id, project_owner FROM directus_settings ORDER BY id LIMIT 1").fetchone()
        if row and row[1]:
            return False
        if row:
            conn.execute("UPDATE directus_settings SET project_owner = %s WHERE id = %s", (owner, row[0]))
        else:
            conn.execute("INSERT INTO directus_settings (project_owner) VALUES (%s)", (owner,))
    console.info(f"project owner set to {owner} (the database had none)")
    return True
