"""How the integration suite is split over xdist workers (tests/conftest.py): whole modules, and every module
on the seeded stack in one unit, so they share one stack in one order."""

from __future__ import annotations

import re

from tests.conftest import LONGEST, REPO, on_seeded_stack


def test_every_module_marked_for_the_seeded_stack_is_in_the_seeded_unit():
    marked = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "tests").rglob("test_*.py")
        if re.search(r"""mark\.stack\(["']seeded["']\)""", p.read_text())
    )
    assert marked, "no module is marked stack('seeded'): the check would prove nothing"
    assert [m for m in marked if not on_seeded_stack(m)] == []
    assert all(on_seeded_stack(str(p.relative_to(REPO))) for p in (REPO / "tests" / "security").glob("test_*.py"))
    assert not on_seeded_stack("tests/integration/test_course.py")


def test_the_longest_modules_exist():
    assert [m for m in LONGEST if not (REPO / m).is_file()] == []
