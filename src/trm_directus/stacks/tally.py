"""A tally of Directus boots, for a test run's summary: how many from an empty database, from a template, restarts.

Set TRM_STACK_TALLY to a file and every native stack of this process and its children (CLI
commands the tests run) appends one line per event: `empty` (the first boot of a database the
stack created empty), `template` (the first boot of a copy of a template database), `restart`
(any later boot, or the first boot of an existing dev-stack database), `template-build` (a
template database built: boot steps 1-4 on an empty database, without starting Directus); each line
names the test that asked, when a test did.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

SETTING = "TRM_STACK_TALLY"
KINDS = ("empty", "template", "restart", "template-build")


def record(kind: str) -> None:
    path = os.environ.get(SETTING)
    if not path:
        return
    assert kind in KINDS, kind
    # The test that asked (pytest sets PYTEST_CURRENT_TEST; CLI commands a test runs inherit it).
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    with open(path, "a") as f:  # one short line per write: appends of several processes do not interleave
        f.write(f"{kind}\t{test}\n" if test else kind + "\n")


def start() -> Path:
    """Start a tally for this process and its children (a fresh file unless one is set already)."""
    if not os.environ.get(SETTING):
        fd, name = tempfile.mkstemp(prefix="trm-stack-tally-", suffix=".txt")
        os.close(fd)
        os.environ[SETTING] = name
    return Path(os.environ[SETTING])


def _events(path: Path | None) -> list[tuple[str, str]]:
    """(kind, test) per line of the tally; test is "" for a boot outside any test."""
    path = path or (Path(os.environ[SETTING]) if os.environ.get(SETTING) else None)
    if path is None or not path.exists():
        return []
    return [
        (kind.strip(), test) for kind, _, test in (line.partition("\t") for line in path.read_text().splitlines()) if kind.strip()
    ]


def counts(path: Path | None = None) -> Counter[str]:
    return Counter(kind for kind, _ in _events(path))


def by_test(kind: str, path: Path | None = None) -> Counter[str]:
    """How many boots of this kind each test made (lines without a test are counted under "")."""
    return Counter(test for k, test in _events(path) if k == kind)


def summary(path: Path | None = None) -> str:
    c = counts(path)
    return (
        f"Directus boots: {c['empty']} from an empty database, {c['template']} from a template database "
        f"({c['template-build']} template(s) built), {c['restart']} restarts"
    )
