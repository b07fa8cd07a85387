"""The package's import graph: no cycle between modules or packages, no import of another package's
private name (src/trm_directus/import_graph.py). The checker is also shown to catch each on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trm_directus import import_graph


def test_the_package_has_no_cycle_and_no_private_cross_package_import():
    problems = import_graph.violations()
    assert problems == [], "\n".join(problems)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "trm_directus"
    shutil.copytree(import_graph.SOURCE, target, ignore=shutil.ignore_patterns("__pycache__"))
    assert import_graph.violations(target) == []  # the copy starts clean
    return target


def test_a_deferred_import_that_closes_a_cycle_is_found_with_its_file_and_line(copy: Path):
    # documents is imported by seed; a function-level import back is still a cycle for the reader
    (copy / "documents" / "late.py").write_text("def f():\n    from ..seed import seed_file\n    return seed_file\n")
    problems = import_graph.violations(copy)
    assert any(p.startswith("import cycle between packages: ") and "documents" in p and "seed" in p for p in problems), problems
    assert any("trm_directus.documents.late:2 imports trm_directus.seed.seed_file" in p for p in problems), problems


def test_a_module_cycle_inside_one_package_is_found(copy: Path):
    (copy / "seed" / "a.py").write_text("from . import b\n")
    (copy / "seed" / "b.py").write_text("from .a import x\n")
    problems = import_graph.violations(copy)
    assert any("import cycle between modules: trm_directus.seed.a <-> trm_directus.seed.b" in p for p in problems), problems


def test_a_private_name_of_another_package_is_refused_and_of_the_own_package_allowed(copy: Path):
    (copy / "rules" / "peek.py").write_text("from ..documents.validation import _private_helper\n")
    (copy / "documents" / "own.py").write_text("from .validation import _private_helper\n")
    problems = import_graph.violations(copy)
    assert len(problems) == 1, problems
    assert "rules/peek.py:1: imports _private_helper from trm_directus.documents.validation" in problems[0]


def test_a_private_module_of_another_package_is_refused(copy: Path):
    (copy / "bench" / "peek.py").write_text("from ..commands import _target\n")
    problems = import_graph.violations(copy)
    assert any("bench/peek.py:1: imports trm_directus.commands._target" in p for p in problems), problems
