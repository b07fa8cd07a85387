"""Directus's uploaded files beside the database backups: a mirror in the repository, copied back on restore.

Directus never rewrites a stored file (a replaced upload gets a new `filename_disk`), so the mirror
only grows: each backup copies the files it does not have yet (name and size compared) and deletes
nothing, and a restore to any moment finds every file the restored `directus_files` can name that
existed at the last backup before it. Files uploaded after the last backup are not in it: the
uploads' recovery point is the backup schedule, not `archive_timeout` (docs/how-to/back-up-and-restore.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import console


def mirror(uploads: Path, repo: Path) -> int:
    """Copy new or changed files of `uploads` into `repo/uploads`; the number copied."""
    target = repo / "uploads"
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    copied = 0
    for src in sorted(uploads.rglob("*")) if uploads.is_dir() else []:
        if not src.is_file() or src.is_symlink():
            continue
        dst = target / src.relative_to(uploads)
        if dst.exists() and dst.stat().st_size == src.stat().st_size:
            continue
        dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    return copied


def restore(repo: Path, uploads: Path, aside_suffix: str) -> Path | None:
    """Put the mirror's files in `uploads`; the current directory is moved aside first (returned), never deleted."""
    aside = None
    if uploads.exists() and any(uploads.iterdir()):
        aside = uploads.with_name(f"{uploads.name}.{aside_suffix}")
        uploads.rename(aside)
        console.info(f"uploads: the current files were moved aside to {aside}")
    uploads.mkdir(mode=0o700, parents=True, exist_ok=True)
    source = repo / "uploads"
    if source.is_dir():
        shutil.copytree(source, uploads, dirs_exist_ok=True, copy_function=shutil.copy2)
    return aside
