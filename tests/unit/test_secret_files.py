"""Credential files are private from their first byte: created 0600, never written world-readable and chmod'ed after.

The process's own audit events (open, chmod, rename) are the observation points: at each one, every
regular file in the watched directory must already be private, and no chmod may happen at all.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from trm_directus import secretfile
from trm_directus.stacks.base import StackInfo
from trm_directus.stacks.compose import ComposeStack
from trm_directus.stacks.native import NativeStack

_watch: list[Path] = []
_seen: list[str] = []
_inside = False


def _audit(event: str, args: tuple) -> None:
    global _inside
    if not _watch or _inside or event not in ("open", "os.chmod", "os.rename"):
        return
    _inside = True  # listing the directory raises audit events of its own
    try:
        if event == "os.chmod":
            _seen.append(f"chmod {args[0]} to {oct(args[1])}")
        for entry in os.scandir(_watch[0]):
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) and mode & 0o077:
                _seen.append(f"at {event}: {entry.name} is {oct(stat.S_IMODE(mode))}")
    finally:
        _inside = False


sys.addaudithook(_audit)


@pytest.fixture
def watched(tmp_path):
    """A directory whose files are checked at every open/chmod/rename, with a permissive umask."""
    old = os.umask(0o022)
    _watch.append(tmp_path)
    _seen.clear()
    try:
        yield tmp_path
    finally:
        _watch.clear()
        os.umask(old)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_private_is_never_readable_by_others(watched):
    target = watched / "secret.env"
    secretfile.write_private(target, "SECRET=one\n")
    secretfile.write_private(target, "SECRET=two\n")  # replacing keeps it private too
    assert _seen == [] and _private(target) and target.read_text() == "SECRET=two\n"
    assert sorted(p.name for p in watched.iterdir()) == ["secret.env"]  # no temporary file left


def test_write_private_does_not_follow_a_planted_link(watched):
    victim = watched.parent / f"{watched.name}-victim"
    victim.write_text("untouched\n")
    link = watched / "secret.env"
    link.symlink_to(victim)
    secretfile.write_private(link, "SECRET=x\n")
    assert victim.read_text() == "untouched\n" and not link.is_symlink() and _private(link)


def test_stack_info_is_saved_private_from_the_start(watched):
    info = StackInfo(backend="native", state_dir=str(watched), admin_password="pw", admin_token="tok", secret="s")
    info.save()
    assert _seen == [] and _private(watched / "stack.json")


def test_native_directus_config_is_written_private_from_the_start(watched):
    stack = NativeStack(watched / "stack")
    _watch[0] = stack.state_dir
    path = stack.write_config(stack.directus_config())
    assert _seen == [] and _private(path) and "SECRET=" in path.read_text()


def test_compose_env_file_is_written_private_from_the_start(watched):
    stack = ComposeStack(watched, project="trm-test")
    path = stack.write_env_file()
    assert _seen == [] and _private(path) and "DB_PASSWORD=" in path.read_text()


def test_generated_secrets_never_start_with_a_dash():
    # One in 64 URL-safe tokens starts with "-": `--token -x…` then reads as an option, and a clean-clone CI
    # failed 5 rules-import tests with "argument --token: expected one argument". 2,000 draws all but
    # certainly include such tokens for a plain token_urlsafe (probability of none: 2e-14).
    from trm_directus.secretfile import new_secret

    drawn = [new_secret(24) for _ in range(2000)]
    assert not [s for s in drawn if s.startswith("-")]
    assert len(set(drawn)) == 2000 and all(len(s) == 32 for s in drawn)
