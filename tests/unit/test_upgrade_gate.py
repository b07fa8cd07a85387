"""The upgrade gate's pure parts: the base ref and its worktree, the per-table comparison, the boot summary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from trm_directus.db import rowsums
from trm_directus.db.rowsums import Table
from trm_directus.errors import StackError, UpgradeError
from trm_directus.gates import baseref, drift
from trm_directus.gates import upgrade as gate


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, name: str) -> str:
    (repo / name).write_text(name)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: a layout commit, then one more; branch `work` from the first with a commit of its own."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path in baseref.NEEDED:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        if "." in Path(path).name:
            (repo / path).write_text("x")
        else:
            (repo / path).mkdir(exist_ok=True)
            (repo / path / "keep").write_text("x")
    commit(repo, "first")
    git(repo, "checkout", "-q", "-b", "work")
    commit(repo, "work-only")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main-later")
    git(repo, "checkout", "-q", "work")
    return repo


def test_the_base_is_the_merge_base_with_main_or_the_ref_given(repo):
    first = git(repo, "rev-parse", "HEAD~1")
    assert baseref.resolve(repo, None) == (first, "merge base of HEAD and main")
    assert baseref.resolve(repo, "main")[0] == git(repo, "rev-parse", "main")
    with pytest.raises(UpgradeError, match="rev-parse --verify nope"):
        baseref.resolve(repo, "nope")
    git(repo, "branch", "-q", "-m", "main", "trunk")
    with pytest.raises(UpgradeError, match="no branch main or origin/main") as info:
        baseref.resolve(repo, None)
    assert "pass --base REF" in info.value.render()


def test_the_base_is_checked_out_into_a_worktree_that_is_removed_afterwards(repo):
    first = git(repo, "rev-parse", "HEAD~1")
    with baseref.checkout(repo, first) as tree:
        assert (tree / "first").exists() and not (tree / "work-only").exists()
        assert str(tree) in git(repo, "worktree", "list")
    assert not tree.exists() and str(tree) not in git(repo, "worktree", "list")
    git(repo, "rm", "-q", "-r", "db-init")
    bare = commit(repo, "no-db-init")
    with pytest.raises(UpgradeError, match="lacks db-init"), baseref.checkout(repo, bare):
        pass
    assert git(repo, "worktree", "list").count("\n") == 0  # removed after a refusal too


def test_the_comparison_names_lost_rows_changed_values_and_dropped_columns():
    before = {
        "entries": Table(("id", "name"), 6, "a"),
        "orgs": Table(("id", "name"), 2, "b"),
        "fleet": Table(("id", "note"), 3, "c"),
        "gone": Table(("id",), 4, "d"),
        "same": Table(("id",), 9, "e"),
    }
    after = {
        "entries": Table(("id", "name"), 5, "x"),
        "orgs": Table(("id", "name"), 2, "y"),
        "fleet": Table(("id",), 3, "z"),
        "gone": Table((), 0, ""),
        "same": Table(("id",), 9, "e"),
    }
    lines, problems = rowsums.compare(before, after)
    assert problems == [
        "entries: 6 → 5 rows",
        "orgs: values changed (checksum differs)",
        "fleet: column(s) dropped: note",
        "gone: table gone (4 rows)",
    ]
    assert lines[-1].split() == ["same", "9", "rows", "unchanged"]


LOG = """\
[entrypoint] preflight
[entrypoint] 1/5 db-init pre-schema
db-init pre: 0 applied, 5 already applied
[entrypoint] 3/5 schema apply
schema changes from /x/schema.yaml:
schema guard: 1 change(s): 0 safe, 0 checked, 1 destructive, 0 blocked
  DESTRUCTIVE field organizations.name: varchar(200) → varchar(10): narrowing truncates longer values: 2 rows would be truncated
FAILED: refusing to apply /x/schema.yaml: 1 destructive change(s) would lose data or a guarantee
[entrypoint] FAILED at step 3/5 (schema apply) with exit code 1 after 900ms; Directus was not started
"""


def test_the_boot_summary_keeps_db_init_and_everything_the_schema_step_printed_in_boot_order():
    summary = gate.boot_summary(LOG)
    assert summary[0] == "db-init pre: 0 applied, 5 already applied"
    assert summary[1] == "schema step (3/5):"
    assert summary[3].startswith("  schema guard: 1 change(s)")
    assert summary[-1].startswith("  [entrypoint] FAILED at step 3/5 (schema apply)")
    assert gate.boot_summary("[entrypoint] preflight\n") == []
    long = "[entrypoint] 3/5 schema apply\n" + "line\n" * 100 + "[entrypoint] 3/5 schema apply done in 9ms\n"
    long += "[entrypoint] 4/5 db-init post-schema\ndb-init post: 1 applied\n"
    assert gate.boot_summary(long, limit=10)[:2] == ["schema step (3/5):", "  line"]
    assert gate.boot_summary(long, limit=10)[-2:] == ["… 90 more lines in the boot log", "db-init post: 1 applied"]


class BootLog:
    """What drift.boot_failure reads of a stack: its boot log."""

    def __init__(self, text: str) -> None:
        self.text = text

    def boot_output(self) -> str:
        return self.text


def test_a_failed_boot_is_reported_by_its_step_and_our_error_block_without_stack_frames():
    log = (
        "[entrypoint] 3/5 schema apply\n"
        "  BLOCKED     field waypoints.type: nullable → NOT NULL: the column is pinned by trigger t on waypoints\n"
        "FAILED: schema apply failed\n  details of ours\nError: boom\n"
        "    at apply (run.js:1:2)\nTraceback (most recent call last):\n"
        "What to do: fix it\n[12:00:00] INFO: a Directus line\n"
        "[entrypoint] FAILED at step 3/5 (schema apply) with exit code 1 after 9ms; Directus was not started\n"
    )
    assert drift.boot_failure(BootLog(log), StackError("Directus boot failed: X"), "second boot") == [
        "the second boot failed: Directus boot failed: X",
        "  BLOCKED     field waypoints.type: nullable → NOT NULL: the column is pinned by trigger t on waypoints",
        "FAILED: schema apply failed",
        "  details of ours",
        "Error: boom",
        "What to do: fix it",
        "[entrypoint] FAILED at step 3/5 (schema apply) with exit code 1 after 9ms; Directus was not started",
    ]
