"""Backups without services: the pgBackRest configuration and archive settings, `--to`, `backup list`, token sources."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from trm_directus.backup import repo as pgbr
from trm_directus.backup import stack as backups
from trm_directus.backup import uploads
from trm_directus.commands import _token
from trm_directus.commands.restore import parse_target
from trm_directus.errors import ConfigError


class Cluster:
    def __init__(self, base: Path) -> None:
        self.pg_dir, self.data_dir, self.port = base, base / "data", 5499


def test_the_repository_is_outside_the_data_directory_and_the_settings_archive_every_segment(tmp_path, monkeypatch):
    monkeypatch.delenv(pgbr.REPO_SETTING, raising=False)
    monkeypatch.setattr(pgbr, "binary", lambda: "/usr/bin/pgbackrest")
    repo = pgbr.Repo(Cluster(tmp_path))
    assert repo.path == tmp_path / "backups" and repo.conf.parent == tmp_path
    assert not repo.path.is_relative_to(tmp_path / "data")
    conf = repo.config_text()
    for line in (f"repo1-path={tmp_path / 'backups'}", "repo1-retention-full-type=time", "repo1-retention-full=14",
                 f"pg1-path={tmp_path / 'data'}", "pg1-port=5499", f"lock-path={tmp_path / 'pgbackrest'}"):  # fmt: skip
        assert line in conf.splitlines()
    settings = repo.server_settings()
    assert settings["archive_mode"] == "on" and settings["archive_timeout"] == "30"
    assert settings["archive_command"] == f"'/usr/bin/pgbackrest --config={repo.conf} --stanza=trm archive-push %p'"
    monkeypatch.setenv(pgbr.ARCHIVE_TIMEOUT_SETTING, "5")
    monkeypatch.setenv(pgbr.REPO_SETTING, str(tmp_path / "elsewhere"))
    assert pgbr.Repo(Cluster(tmp_path)).server_settings()["archive_timeout"] == "5"
    assert pgbr.Repo(Cluster(tmp_path)).path == tmp_path / "elsewhere"


def test_an_unknown_backup_kind_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(Exception, match="unknown backup kind 'weekly'"):
        pgbr.Repo(Cluster(tmp_path)).backup("weekly")
    assert not (tmp_path / "pgbackrest.conf").exists()


def test_restore_targets_need_a_time_zone():
    assert parse_target(None) is None
    assert parse_target("2026-06-08T14:03:00+02:00") == "2026-06-08 14:03:00+02:00"
    assert parse_target("2026-06-08T12:03:00Z") == "2026-06-08 12:03:00+00:00"
    with pytest.raises(ConfigError, match="has no time zone"):
        parse_target("2026-06-08T14:03:00")
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        parse_target("yesterday")


def test_backup_list_shows_each_backup_and_the_restorable_window():
    info = {
        "backup": [
            {"label": "20260608-020000F", "type": "full", "timestamp": {"start": 1780884000, "stop": 1780884060},
             "info": {"size": 300 * 2**20, "repository": {"delta": 60 * 2**20}}},
            {"label": "20260608-020000F_20260608-100000I", "type": "incr", "timestamp": {"start": 1780912800, "stop": 1780912810},
             "info": {"size": 310 * 2**20, "repository": {"delta": 2 * 2**20}}},
        ],
        "archive": [{"min": "000000010000000000000001", "max": "000000010000000000000042"}],
    }  # fmt: skip
    lines = backups.describe(info)
    assert lines[0].startswith("20260608-020000F") and " full " in lines[0] and "stored     60.0 MiB" in lines[0]
    assert " incr " in lines[1] and "database    310.0 MiB" in lines[1]
    assert lines[2] == "restorable: any time from 2026-06-08 02:01:00 UTC to the last archived WAL (000000010000000000000042)"
    assert backups.describe({}) == ["no backups yet: `python -m trm_directus backup`"]


def test_uploads_are_mirrored_without_deleting_and_restored_with_the_current_ones_moved_aside(tmp_path):
    live, repo = tmp_path / "uploads", tmp_path / "repo"
    live.mkdir()
    (live / "a.txt").write_text("a")
    assert uploads.mirror(live, repo) == 1 and uploads.mirror(live, repo) == 0  # nothing new: nothing copied
    (live / "a.txt").unlink()
    (live / "b.txt").write_text("b")
    assert uploads.mirror(live, repo) == 1 and (repo / "uploads" / "a.txt").exists()  # never deleted from the mirror
    aside = uploads.restore(repo, live, "before-restore-x")
    assert aside == tmp_path / "uploads.before-restore-x" and (aside / "b.txt").read_text() == "b"
    assert sorted(p.name for p in live.iterdir()) == ["a.txt", "b.txt"]


def token_args(**over) -> argparse.Namespace:
    return argparse.Namespace(**{"token": None, "token_file": None, **over})


def test_a_token_comes_from_a_private_file_or_the_environment_and_the_command_line_warns(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DIRECTUS_TOKEN", "from-the-environment")
    assert _token.resolve(token_args()) == "from-the-environment"
    path = tmp_path / "token"
    path.write_text("from-a-file\n")
    path.chmod(0o600)
    assert _token.resolve(token_args(token_file=path)) == "from-a-file"
    assert capsys.readouterr().err == ""
    assert _token.resolve(token_args(token="on-the-command-line")) == "on-the-command-line"
    assert "visible to every local user" in capsys.readouterr().err
    monkeypatch.delenv("DIRECTUS_TOKEN")
    assert _token.resolve(token_args()) is None  # the dev stack's, decided by the caller


def test_a_token_file_others_can_read_or_a_link_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("secret")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="mode 0644 lets other users read the token") as info:
        _token.read_file(path)
    assert f"chmod 600 {path}" in info.value.render()
    link = tmp_path / "link"
    os.symlink(path, link)
    with pytest.raises(ConfigError, match="not a regular file"):
        _token.read_file(link)
    empty = tmp_path / "empty"
    empty.write_text("")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match="empty"):
        _token.read_file(empty)
    with pytest.raises(ConfigError, match="no such file"):
        _token.read_file(tmp_path / "missing")
