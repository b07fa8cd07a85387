"""A new persistent stack on a restored copy of another stack's database (`restore --into DIR`)."""

from __future__ import annotations

from pathlib import Path

from .. import console
from ..backup import stack as backups
from ..backup import uploads
from ..errors import StackError
from ..services import private, proc
from .base import StackInfo
from .native import NativeStack


def restore_into(source, state_dir: Path, target: str | None = None):
    """A new persistent stack in `state_dir` on the source stack's restored database (same credentials, new
    ports, its own backup repository); returned running."""
    if StackInfo.load(state_dir) is not None:
        raise StackError(f"{state_dir} already holds a stack", "choose a new directory for --into")
    repo = backups.repo_of(source)
    stack = NativeStack(state_dir, persistent=True)
    keep = {k: getattr(source.info, k) for k in ("admin_email", "admin_password", "admin_token", "secret")}
    for key, value in keep.items():
        setattr(stack.info, key, value)
    stack.info.db["password"] = source.info.db["password"]  # the restored cluster's superuser password
    stack.postgres.password = source.info.db["password"]
    stack.info.backup_repo = ""  # its own repository, never the source's (two clusters must not archive into one)
    pg = stack.postgres
    if pg.pg_dir.parent != pg.base_dir:
        private.ensure_shared_root(pg.pg_dir.parent)
    private.ensure_dir(pg.pg_dir, proc.stack_user())
    proc.give_to_user(pg.pg_dir)
    with console.step(
        f"pgBackRest restore of {source.info.state_dir} into {pg.data_dir}" + (f" up to {target}" if target else "")
    ):
        repo.restore(pg.data_dir, target)
    stack.info.pg_dir = str(pg.pg_dir)
    stack.info.save()
    uploads.restore(repo.path, stack.state_dir / "uploads", backups.aside_suffix())
    backups.start_restored(stack)
    return stack
