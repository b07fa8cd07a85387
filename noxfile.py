"""nox sessions: thin wrappers that build environments and call the trm_directus package.

Usage: `nox -s tests` (the README's test command), `nox -s lint`, `nox -l` for the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

DEV = ".[dev]"
LINT_PATHS = ["src", "tests", "noxfile.py", "tasks.py"]
SHELL_SCRIPTS = ["image/entrypoint.sh", ".ci/run", ".ci/prereqs", ".ci/timescaledb"]
WORKFLOWS = ".gitea/workflows"


def install(session: nox.Session) -> None:
    session.install("-e", DEV)


def prepare_native(session: nox.Session) -> None:
    """Install Directus and build the extensions up front: minutes on a cold cache, with visible
    progress here rather than hidden inside the first fixture (no-ops when cached)."""
    session.run("python", "-m", "trm_directus", "stack", "install")
    session.run("python", "-m", "trm_directus", "extensions", "build")


# Unit tests first: a logic error is reported before any Directus boots. The 20 slowest are listed.
# Two xdist workers, whole modules each (module and session stacks stay shared within a worker; the longest
# modules start first: tests/conftest.py LONGEST): the suite mostly waits on services, so two keep both cores
# busy. TRM_TEST_WORKERS=0 runs it in one process.
WORKERS = os.environ.get("TRM_TEST_WORKERS", "2")
PARALLEL = [] if WORKERS == "0" else ["-n", WORKERS, "--dist", "loadfile", "--no-loadscope-reorder"]
SERVICE_TESTS = ["tests/integration", "tests/security", "tests/reliability", "-m", "not slow", "--durations=20", *PARALLEL]


def tests_impl(session: nox.Session, *defaults: str, directus: bool = False) -> None:
    install(session)
    if directus:
        prepare_native(session)
    session.run("pytest", *(session.posargs or defaults))


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, then integration and fault tests (real PostgreSQL, Redis and Directus started by the fixtures)."""
    if not session.posargs:
        session.log("deselecting tests marked slow (rolling restart of 3 instances, minutes): `nox -s reliability` runs them")
    tests_impl(session, "tests/unit", *SERVICE_TESTS, directus=True)


@nox.session(default=False)
def integration(session: nox.Session) -> None:
    """`nox -s tests` without the unit tests (CI runs `nox -s unit` before it, as its own step)."""
    tests_impl(session, *SERVICE_TESTS, directus=True)


@nox.session(default=False)
def reliability(session: nox.Session) -> None:
    """The fault-injection suite (tests/reliability), slow tests included; prints fault → outcome → data lost."""
    tests_impl(session, "tests/reliability", directus=True)


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests only: no services needed (seconds; CI's first test step)."""
    tests_impl(session, "tests/unit", "--durations=5")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, the import graph, yamllint, shellcheck, hadolint, workflow and compose schemas, version pins, extensions
    (tsc + vitest)."""
    install(session)
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("python", "-m", "trm_directus.import_graph")  # no cycle, no private cross-package import
    session.run("yamllint", "--strict", ".")
    session.run("shellcheck", *SHELL_SCRIPTS)
    session.run("hadolint", "image/Dockerfile")
    workflows = sorted(str(p) for p in Path(WORKFLOWS).glob("*.y*ml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    # The Compose Specification's schema as check-jsonschema vendors it (offline): profiles and replicas included.
    session.run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "image/compose.yaml")
    session.run("python", "-m", "trm_directus", "pins")
    session.run("python", "-m", "trm_directus", "extensions", "check")


@nox.session(default=False)
def up(session: nox.Session) -> None:
    """Boot the persistent dev stack from a fresh clone (`nox -s up -- --backend native --port 8055`)."""
    install(session)
    session.run("python", "-m", "trm_directus", "stack", "up", *session.posargs)


@nox.session(default=False)
def down(session: nox.Session) -> None:
    """Stop the dev stack (`nox -s down -- --purge` deletes its data)."""
    install(session)
    session.run("python", "-m", "trm_directus", "stack", "down", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against the issue targets (`nox -s bench -- install-cold boot`)."""
    install(session)
    session.run("python", "-m", "trm_directus", "bench", *session.posargs)


def gate(session: nox.Session, command: str, verdict: str) -> None:
    """Run a gate command; its exit 2 (findings) stays 2, which nox alone would turn into 1."""
    install(session)
    prepare_native(session)
    session.run("python", "-m", "trm_directus", command, *session.posargs, success_codes=[0, 2])
    if not json.loads(Path(f"reports/{command}.json").read_text())[verdict]:
        raise SystemExit(2)


@nox.session(default=False)
def drift(session: nox.Session) -> None:
    """The drift gate: boot a throw-away stack from the committed artifacts; exit 2 on drift."""
    gate(session, "drift", "clean")


@nox.session(default=False)
def upgrade(session: nox.Session) -> None:
    """The upgrade gate: boot the working tree on a database a base ref built and seeded; exit 2 on findings."""
    gate(session, "upgrade", "passed")


@nox.session(default=False)
def seed(session: nox.Session) -> None:
    """Throw-away stack: seed Rally Albania 2026, seed again (no changes), verify counts and relations."""
    install(session)
    prepare_native(session)
    session.run("python", "-m", "trm_directus", "seed", "--verify", *session.posargs)
