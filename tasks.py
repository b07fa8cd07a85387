"""invoke tasks: developer shortcuts that delegate to `python -m trm_directus` (no logic here).

`inv --list` shows them; each task's first docstring line is its help.
"""

from __future__ import annotations

import shlex
import sys

from invoke import Context, task


def cli(c: Context, *args: object, pty: bool = False, token: str | None = None) -> None:
    """Run the package CLI with the same interpreter invoke runs under; its exit code is ours.
    A token goes in the environment (DIRECTUS_TOKEN), never on the command line where `ps` shows it."""
    argv = [sys.executable, "-m", "trm_directus", *(str(a) for a in args if a is not None and a != "")]
    c.run(shlex.join(argv), pty=pty, env={"DIRECTUS_TOKEN": token} if token else {})


def opt(flag: str, value: object) -> list[str]:
    return [flag, str(value)] if value not in (None, "", False) else []


@task(
    help={
        "backend": "native, compose or auto (default: compose when a Docker engine answers)",
        "port": "Directus port (HAProxy's with several instances)",
        "instances": "Directus processes behind HAProxy (default: as the stack was started, else 1)",
        "reset": "delete the stack's database first and start afresh",
    }
)
def up(c, backend="auto", port=None, instances=None, reset=False):
    """Boot the local dev stack (Postgres+PostGIS, Redis, Directus) and print URL and credentials."""
    reset_flag = ["--reset"] if reset else []
    cli(c, "stack", "up", "--backend", backend, *opt("--port", port), *opt("--instances", instances), *reset_flag)


@task(help={"purge": "also delete the stack's database and state"})
def down(c, purge=False):
    """Stop the local dev stack (its data is kept unless --purge)."""
    cli(c, "stack", "down", *(["--purge"] if purge else []))


@task
def status(c):
    """Show the dev stack: processes, health, URLs, credentials."""
    cli(c, "stack", "status")


@task(help={"service": "directus (default), postgres or redis", "lines": "how many lines"})
def logs(c, service="directus", lines=80):
    """Show the last lines of a dev stack service's log."""
    cli(c, "stack", "logs", "--service", service, "--lines", lines)


@task
def psql(c):
    """Open psql on the dev stack's database."""
    cli(c, "stack", "psql", pty=True)


@task(help={"kind": "incr (default), diff or full", "list_": "list the backups instead"})
def backup(c, kind="incr", list_=False):
    """Back up the dev stack's database and uploads now (pgBackRest), or list the backups."""
    cli(c, "backup", "list" if list_ else "now", *([] if list_ else ["--kind", kind]))


@task(help={"to": "point in time with a time zone (default: latest)", "into": "restore into a new stack in this directory"})
def restore(c, to=None, into=None):
    """Restore the dev stack's database from its backups (the current one is moved aside), then boot Directus."""
    cli(c, "restore", *opt("--to", to), *opt("--into", into))


@task(help={"phase": "pre (default), post or all", "dry_run": "list what would run, write nothing", "dsn": "PostgreSQL URL"})
def migrate(c, phase="pre", dry_run=False, dsn=None):
    """Apply pending db-init SQL files (validates checksums and order first)."""
    cli(c, "migrate", "--phase", phase, *(["--dry-run"] if dry_run else []), *opt("--dsn", dsn))


@task(name="db-status", help={"dsn": "PostgreSQL URL"})
def db_status(c, dsn=None):
    """Show every db-init file and its state (applied / pending / changed / missing)."""
    cli(c, "status", *opt("--dsn", dsn))


@task(iterable=["file"], help={"file": "file to repair (repeatable; default: every changed file)", "dsn": "PostgreSQL URL"})
def repair(c, file=None, dsn=None):
    """Accept the new content of deliberately edited applied db-init files."""
    cli(c, "repair", *opt("--dsn", dsn), *(file or []))


@task(help={"out": "where to write (default snapshots/schema.yaml)"})
def snapshot(c, out=None):
    """Capture the dev stack's live schema into snapshots/schema.yaml (commit it with the change)."""
    cli(c, "snapshot", *opt("--out", out))


@task(
    help={
        "against": "Directus URL (default: the dev stack)",
        "token": "admin token (better: DIRECTUS_TOKEN in the environment; an argument shows in ps)",
        "markdown": "also write Markdown here",
    }
)
def diff(c, against=None, token=None, markdown=None):
    """Show what differs between the committed snapshot and a live instance."""
    cli(c, "diff", *opt("--against", against), *opt("--markdown", markdown), token=token)


@task(
    help={
        "dry_run": "preview only",
        "allow_destructive": "the snapshot token printed in the refusal: allows its destructive changes once",
        "against": "Directus URL",
        "token": "admin token (better: DIRECTUS_TOKEN in the environment; an argument shows in ps)",
    }
)
def apply(c, dry_run=False, allow_destructive=None, against=None, token=None):
    """Apply the committed snapshot to a running instance (preview first; destructive changes refused)."""
    flags = ["--dry-run"] if dry_run else []
    cli(c, "apply", *flags, *opt("--allow-destructive", allow_destructive), *opt("--against", against), token=token)


@task
def drift(c):
    """Run the drift gate on a throw-away stack (exit 2 on drift; report in reports/drift.md)."""
    cli(c, "drift")


@task(
    name="seed-rally-albania",
    help={
        "against": "Directus URL (default: the dev stack)",
        "token": "admin token (better: DIRECTUS_TOKEN in the environment; an argument shows in ps)",
        "dry_run": "show what would change, write nothing",
    },
)
def seed_rally_albania(c, against=None, token=None, dry_run=False):
    """Register Rally Albania 2026 (org, event, 18 classes, test entries) idempotently."""
    cli(
        c,
        "seed",
        "seeds/rally-albania-2026.yaml",
        *opt("--against", against),
        *(["--dry-run"] if dry_run else []),
        token=token,
    )


@task(
    name="course-import",
    help={
        "file": "OpenRally GPX file (one stage)",
        "event": "event slug",
        "stage": "stage name (default: from the file)",
        "dry_run": "print the plan, write nothing",
    },
)
def course_import(c, file, event, stage=None, dry_run=False):
    """Import an OpenRally GPX file as a stage of an event's course (dev stack; idempotent)."""
    cli(c, "course-import", file, "--event", event, *opt("--stage", stage), *(["--dry-run"] if dry_run else []))


@task(name="ui-snapshot", help={"out": "where to write (default snapshots/ui.yaml)"})
def ui_snapshot(c, out=None):
    """Capture the dev stack's default list layouts and dashboards into snapshots/ui.yaml."""
    cli(c, "ui-snapshot", *opt("--out", out))


@task(name="ui-apply", help={"dry_run": "preview only", "prune": "also delete layouts/dashboards the file does not name"})
def ui_apply(c, dry_run=False, prune=False):
    """Apply snapshots/ui.yaml to the dev stack (boot does it by itself)."""
    cli(c, "ui-apply", *(["--dry-run"] if dry_run else []), *(["--prune"] if prune else []))


@task(name="access-snapshot", help={"out": "where to write (default snapshots/access.yaml)"})
def access_snapshot(c, out=None):
    """Capture the dev stack's roles, policies, access links and permissions into snapshots/access.yaml."""
    cli(c, "access-snapshot", *opt("--out", out))


@task(name="access-diff")
def access_diff(c):
    """Show what applying snapshots/access.yaml to the dev stack would change (exit 1 when it differs)."""
    cli(c, "access-diff")


@task(
    name="rules-import",
    help={
        "file": "rules YAML file (default: the Rally Albania 2026 placeholder rules)",
        "event": "event slug",
        "dry_run": "show what would change, write nothing",
        "against": "Directus URL (default: the dev stack)",
        "token": "admin token (better: DIRECTUS_TOKEN in the environment; an argument shows in ps)",
    },
)
def rules_import(
    c, file="seeds/rally-albania-2026-rules.yaml", event="rally-albania-2026", dry_run=False, against=None, token=None
):
    """Load an event's penalty rules (formulas, radius defaults, maximum times) idempotently."""
    cli(
        c,
        "rules-import",
        file,
        "--event",
        event,
        *(["--dry-run"] if dry_run else []),
        *opt("--against", against),
        token=token,
    )
