"""Private directories for stacks: fresh, 0700, never a symlink or someone else's (services/private.py)."""

from __future__ import annotations

import os
import pwd
import stat

import pytest

from trm_directus.errors import StackError
from trm_directus.services import private


def test_fresh_directories_are_new_and_0700(tmp_path):
    a, b = private.fresh_dir("trm-x-", tmp_path), private.fresh_dir("trm-x-", tmp_path)
    assert a != b and stat.S_IMODE(a.stat().st_mode) == 0o700


def test_a_symlink_is_refused(tmp_path):
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(StackError, match="symbolic link"):
        private.ensure_dir(tmp_path / "link")


def test_our_own_loose_directory_is_tightened(tmp_path):
    d = tmp_path / "mine"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    private.ensure_dir(d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a directory owned by another user")
def test_a_directory_of_another_user_is_refused(tmp_path):
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    os.chown(d, pwd.getpwnam("nobody").pw_uid, -1)
    with pytest.raises(StackError, match="belongs to nobody"):
        private.ensure_dir(d, "postgres")


def test_secrets_are_created_0600_and_never_through_a_link(tmp_path):
    private.write_secret(tmp_path / "pw", "s3cret\n")
    assert stat.S_IMODE((tmp_path / "pw").stat().st_mode) == 0o600
    (tmp_path / "target").write_text("keep\n")
    (tmp_path / "planted").symlink_to(tmp_path / "target")
    with pytest.raises(FileExistsError):
        private.write_secret(tmp_path / "planted", "s3cret\n")
    assert (tmp_path / "target").read_text() == "keep\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_giving_a_tree_away_never_follows_a_link(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tmp_path / "outside").write_text("x\n")
    (tree / "link").symlink_to(tmp_path / "outside")
    private.give_to(tree, "nobody")
    assert tree.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert (tmp_path / "outside").stat().st_uid == 0


def test_a_held_file_lock_ends_the_wait_by_its_deadline_naming_the_holder(tmp_path):
    from trm_directus.errors import WaitTimeout

    lock = tmp_path / ".install.lock"
    with private.file_lock(lock, "Directus install lock", 5):
        assert lock.read_text().strip() == str(os.getpid())
        with pytest.raises(WaitTimeout, match=rf"after 0.5s: held by pid {os.getpid()}"), private.file_lock(lock, "x", 0.5):
            pass
    with private.file_lock(lock, "Directus install lock", 1):  # released: taken at once
        pass


def test_a_lock_file_is_never_opened_through_a_symlink(tmp_path):
    (tmp_path / "target").write_text("keep\n")
    (tmp_path / ".build.lock").symlink_to(tmp_path / "target")
    with pytest.raises(OSError), private.file_lock(tmp_path / ".build.lock", "extension build lock", 1):
        pass
    assert (tmp_path / "target").read_text() == "keep\n"
