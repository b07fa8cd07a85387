"""The base ref of the upgrade gate: resolved to a commit, checked out into a temporary git worktree."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .. import console
from ..errors import UpgradeError

MAINS = ("main", "origin/main")  # the default base: the merge base of HEAD with the first that exists
NEEDED = ("image/entrypoint.sh", "image/Dockerfile", "snapshots", "db-init", "src/trm_directus")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise UpgradeError(
            f"`git {' '.join(args)}` failed in {repo}: {result.stderr.strip() or result.stdout.strip()}",
            "run the gate from a git clone with the base ref fetched (CI: `fetch-depth: 0`), or pass --base REF",
        )
    return result.stdout.strip()


def resolve(repo: Path, ref: str | None) -> tuple[str, str]:
    """(commit, how it was chosen): `ref` itself, else the merge base of HEAD with main (or origin/main)."""
    if ref:
        return git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}"), ref
    for main in MAINS:
        if (
            subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", main], capture_output=True).returncode
            == 0
        ):
            return git(repo, "merge-base", "HEAD", main), f"merge base of HEAD and {main}"
    raise UpgradeError(f"no branch {' or '.join(MAINS)} to take the merge base with", "pass --base REF (a commit, tag or branch)")


def describe(repo: Path, commit: str, width: int = 72) -> str:
    """`<short hash> <subject>`, the subject cut to `width` characters."""
    text = git(repo, "log", "-1", "--format=%h %s", commit)
    return text if len(text) <= width else text[: width - 1] + "…"


@contextlib.contextmanager
def checkout(repo: Path, commit: str) -> Iterator[Path]:
    """The commit's files in a temporary worktree (detached), removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="trm-upgrade-base-"))
    tree = tmp / "base"
    git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        missing = [p for p in NEEDED if not (tree / p).exists()]
        if missing:
            raise UpgradeError(
                f"the base {commit[:12]} lacks {', '.join(missing)}: it predates the layout the upgrade gate boots",
                "pass --base with a later commit",
            )
        yield tree
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def run_cli(tree: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m trm_directus …` of the checkout at `tree` (its own code, with this environment's packages, plus `env`)."""
    env = {**{k: v for k, v in os.environ.items() if k != "TRM_REPO_ROOT"}, **(env or {})}
    env["PYTHONPATH"] = str(tree / "src")
    with console.step(f"base toolchain: trm_directus {' '.join(a if '/' not in a else Path(a).name for a in args[:2])}"):
        result = subprocess.run([sys.executable, "-m", "trm_directus", *args], cwd=tree, env=env, capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise UpgradeError(
            f"the base's `trm_directus {' '.join(args[:2])}` failed with exit code {result.returncode}",
            "the base ref cannot be prepared; check that it boots and seeds on its own",
            details="\n".join(output.splitlines()[-30:]),
        )
    return result
