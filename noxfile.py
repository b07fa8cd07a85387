"""nox sessions: thin wrappers that build environments and call the trm_directus package.

Usage: `nox -s tests` (the README's test command), `nox -s lint`, `nox -l` for the rest.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

DEV = ".[dev]"
LINT_PATHS = ["src", "tests", "noxfile.py", "tasks.py"]


def install(session: nox.Session) -> None:
    session.install("-e", DEV)


def tests_impl(session: nox.Session, *paths: str) -> None:
    install(session)
    session.run("pytest", *(session.posargs or paths))


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests (real PostgreSQL, Redis and Directus started by the fixtures)."""
    tests_impl(session, "tests")


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests only: no services needed."""
    tests_impl(session, "tests/unit")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and yamllint."""
    install(session)
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("yamllint", "--strict", ".")
