"""The template database's key, cache and checks (stacks/template_key.py, template.py, tally.py), without services.

A stale template is one whose database differs from what its inputs give: each input of the
database must change the key (one test per input), and a copy whose first boot did work is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from trm_directus.artifacts.sync import MSG_UNCHANGED as ARTIFACTS_UNCHANGED
from trm_directus.errors import StackError
from trm_directus.schema.apply import MSG_UNCHANGED
from trm_directus.stacks import tally, template, template_key

REPO = Path(__file__).resolve().parents[2]
BINDIR = Path("/nonexistent/postgresql/15/bin")  # unit tests need no PostgreSQL: its extensions are then "absent"


@pytest.fixture
def inputs(tmp_path) -> template_key.Inputs:
    """The committed inputs, copied where a test may edit them."""
    for d in ("db-init", "snapshots", "extensions"):
        shutil.copytree(REPO / d, tmp_path / d, ignore=shutil.ignore_patterns("node_modules", "dist"))
    shutil.copytree(REPO / "image" / "native", tmp_path / "native")
    return template_key.Inputs(
        snapshot_path=tmp_path / "snapshots" / "schema.yaml",
        db_init_dir=tmp_path / "db-init",
        extensions=tmp_path / "extensions",
        bindir=BINDIR,
        env={},
        native_package=tmp_path / "native",
    )


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private template cache, and a tally of its own (these builds are fakes, not the run's boots)."""
    monkeypatch.setenv("TRM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(tally.SETTING, str(tmp_path / "tally.txt"))
    return tmp_path / "cache"


def test_the_key_is_the_same_for_the_same_inputs_wherever_they_are(inputs):
    committed = template_key.Inputs(REPO / "snapshots" / "schema.yaml", REPO / "db-init", REPO / "extensions", BINDIR, {})
    assert template_key.key(inputs) == template_key.key(committed) == template_key.key(inputs)
    assert len(template_key.key(inputs)) == 20


def edit(path: Path, text: str = "\n-- edited\n") -> None:
    with open(path, "a") as f:
        f.write(text)


@pytest.mark.parametrize(
    "change",
    [
        "an applied pre-schema db-init file edited",
        "a new pre-schema db-init file",
        "a post-schema db-init file edited",
        "the schema snapshot edited",
        "the access file edited",
        "the UI file edited",
        "the UI file moved by UI_SNAPSHOT_PATH",
        "an extension source edited",
        "an extension's lockfile edited",
        "the Directus lockfile edited",
        "a stack setting added",
        "another PostgreSQL install",
    ],
)
def test_every_input_of_the_database_changes_the_key(inputs, tmp_path, change):
    before = template_key.key(inputs)
    root = inputs.db_init_dir.parent
    if change == "an applied pre-schema db-init file edited":
        edit(inputs.db_init_dir / "002_positions.sql")
    elif change == "a new pre-schema db-init file":
        (inputs.db_init_dir / "099_new.sql").write_text("SELECT 1;\n")
    elif change == "a post-schema db-init file edited":
        edit(sorted((inputs.db_init_dir / "post").glob("*.sql"))[-1])
    elif change == "the schema snapshot edited":
        edit(inputs.snapshot_path, "\n")
    elif change == "the access file edited":
        edit(root / "snapshots" / "access.yaml", "\n")
    elif change == "the UI file edited":
        edit(root / "snapshots" / "ui.yaml", "\n")
    elif change == "the UI file moved by UI_SNAPSHOT_PATH":
        other = tmp_path / "ui-elsewhere.yaml"
        other.write_text((root / "snapshots" / "ui.yaml").read_text() + "\n")
        inputs = replace(inputs, env={"UI_SNAPSHOT_PATH": str(other)})
    elif change == "an extension source edited":
        edit(root / "extensions" / "trm-operations" / "src" / "hooks.ts", "\n// edited\n")
    elif change == "an extension's lockfile edited":
        edit(root / "extensions" / "trm-integrity" / "package-lock.json", "\n")
    elif change == "the Directus lockfile edited":
        edit(inputs.native_package / "package-lock.json", "\n")
    elif change == "a stack setting added":
        inputs = replace(inputs, env={"TRM_TIMESCALEDB": "optional"})
    elif change == "another PostgreSQL install":
        inputs = replace(inputs, bindir=Path("/nonexistent/postgresql/16/bin"))
    assert template_key.key(inputs) != before, change


def test_the_toolchain_that_runs_the_steps_is_an_input(inputs, tmp_path, monkeypatch):
    before = template_key.key(inputs)
    package = tmp_path / "package"
    shutil.copytree(template_key.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(template_key, "PACKAGE", package)
    assert template_key.key(inputs) == before
    edit(package / "bench" / "runner.py", "\n# edited\n")  # no boot step imports the benchmarks
    assert template_key.key(inputs) == before
    for module in ("dbinit/runner.py", "stacks/base.py", "artifacts/sync.py", "commands/schema_apply.py", "directus/warm.mjs"):
        edit(package / module, "\n# edited\n")
        assert template_key.key(inputs) != before, module
        before = template_key.key(inputs)


def test_the_toolchain_is_what_the_step_commands_and_the_stack_import():
    modules = {str(p.relative_to(template_key.PACKAGE)) for p in template_key.toolchain_modules()}
    assert {"cli.py", "__main__.py", "dbinit/runner.py", "boot/bootstrap.py", "schema/apply.py", "schema/guard.py"} <= modules
    assert {"artifacts/sync.py", "commands/preflight.py", "stacks/native.py", "stacks/base.py", "services/postgres.py"} <= modules
    assert {"artifacts/__init__.py", "schema/__init__.py"} <= modules  # packages run their __init__ on import
    assert not {"bench/runner.py", "commands/drift.py", "gates/drift.py", "commands/seed.py"} & modules


def test_a_readme_next_to_the_sql_files_is_not_an_input(inputs):
    before = template_key.key(inputs)
    edit(inputs.db_init_dir / "README.md", "\nedited\n")
    assert template_key.key(inputs) == before


IDLE_LOG = "\n".join(
    [
        "db-init pre: 0 applied (0ms), 5 already applied",
        "Directus is installed and all 120 of its migrations are recorded: bootstrap has nothing to do, skipped",
        f"{MSG_UNCHANGED} (same snapshot, Directus version and database fingerprint): skipped",
        f"access artifacts: {ARTIFACTS_UNCHANGED} from access.yaml (…)",
        f"ui artifacts: {ARTIFACTS_UNCHANGED} from ui.yaml (…)",
        "db-init post: 0 applied (0ms), 6 already applied",
    ]
)


def test_a_boot_that_found_nothing_to_do_passes_and_each_step_that_did_work_is_named():
    assert template.idle_boot_problems(IDLE_LOG, True, ["access", "ui"]) == []
    worked = IDLE_LOG.replace("db-init post: 0 applied", "db-init post: 1 applied").replace(
        f"ui artifacts: {ARTIFACTS_UNCHANGED}", "ui artifacts: applied"
    )
    assert template.idle_boot_problems(worked, True, ["access", "ui"]) == ["db-init post", "ui artifacts"]
    assert template.idle_boot_problems(IDLE_LOG.replace(MSG_UNCHANGED, "schema changes"), True, []) == ["schema apply"]


def fake_template(path: Path) -> dict:
    (path / "data").mkdir()
    (path / "data" / "PG_VERSION").write_text("15\n")
    (path / "build.log").write_text("built\n")
    return {"admin_email": "admin@example.com", "admin_password": "x" * 16, "db_password": "y" * 16}


def test_a_stale_template_is_refused_and_deleted(cache, inputs):
    found = template.ensure(inputs, fake_template)
    with pytest.raises(StackError) as info:
        template.verify_idle_boot(found, IDLE_LOG.replace("db-init pre: 0 applied", "db-init pre: 1 applied"), True, [])
    assert f"template database {found.key} was stale" in info.value.what and "db-init pre" in info.value.what
    assert "template_key.py" in info.value.hint
    assert not found.path.exists()


def test_two_runs_at_once_build_a_template_once(cache, inputs):
    builds = []

    def slow_build(path: Path) -> dict:
        builds.append(path)
        time.sleep(0.5)
        return fake_template(path)

    found = []
    threads = [threading.Thread(target=lambda: found.append(template.ensure(inputs, slow_build))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({f.path for f in found}) == 1 and len(found) == 3
    manifest = json.loads((found[0].path / "manifest.json").read_text())
    assert manifest["key"] == template_key.key(inputs) and manifest["inputs"] == inputs.parts()
    assert oct(found[0].path.joinpath("manifest.json").stat().st_mode & 0o777) == "0o600"  # it holds credentials
    assert tally.counts()["template-build"] == 1
    assert not [p for p in found[0].path.parent.iterdir() if ".partial" in p.name]


def test_a_failed_build_leaves_no_template(cache, inputs):

    def broken(path: Path) -> dict:
        raise StackError("boot steps failed", "fix it")

    with pytest.raises(StackError):
        template.ensure(inputs, broken)
    assert [p.name for p in template.root().iterdir() if not p.name.endswith(".lock")] == []


def test_templates_unused_for_a_day_are_pruned_when_a_new_one_is_published(cache, inputs):
    old = template.ensure(inputs, fake_template)
    recent = template.ensure(replace(inputs, env={"A": "1"}), fake_template)
    day_ago = time.time() - template.KEEP_UNUSED_SECONDS - 60
    os.utime(old.path / "used", (day_ago, day_ago))
    newest = template.ensure(replace(inputs, env={"A": "2"}), fake_template)
    assert not old.path.exists() and recent.path.exists() and newest.path.exists()


def test_the_tally_counts_each_kind_of_boot(tmp_path, monkeypatch):
    monkeypatch.setenv(tally.SETTING, str(tmp_path / "tally.txt"))
    for kind in ("empty", "template", "template", "restart", "template-build"):
        tally.record(kind)
    assert tally.summary() == (
        "Directus boots: 1 from an empty database, 2 from a template database (1 template(s) built), 1 restarts"
    )


def test_the_tally_names_the_test_that_booted(tmp_path, monkeypatch):
    monkeypatch.setenv(tally.SETTING, str(tmp_path / "tally.txt"))
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/integration/test_x.py::test_a (call)")
    tally.record("empty")
    tally.record("empty")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    tally.record("empty")  # a boot outside any test (e.g. `stack up`)
    tally.record("template")
    assert tally.by_test("empty") == {"tests/integration/test_x.py::test_a": 2, "": 1}
    assert tally.counts()["empty"] == 3 and tally.by_test("restart") == {}
