"""Shared fixtures: a real PostgreSQL cluster for the session, a fresh database per test, Directus stacks.

Stacks (docs/development.md, "How tests get their stacks"): a module's `stack` is its own, copied from the template
database, unless the module says otherwise with `pytestmark = pytest.mark.stack(KIND)`:
- "shared": one stack for the session, for modules that only add rows under fresh natural keys
  and never change what others read (settings, access rules, schema, services);
- "seeded": one stack for the session with Rally Albania and the Adriatic Trail Club seeded;
- "empty": the module's own stack booted from an empty database (the full pipeline).
A test that changes shared state puts it back; otherwise its module takes its own stack.

SIGTERM (a cancelled CI job) is turned into an interrupt, so pytest tears the fixtures down and
no PostgreSQL, Redis or Directus outlives the run (trm_directus.signals). The summary ends with
how many Directus boots the run made from an empty database, from a template and restarts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
DB_INIT = REPO / "db-init"


def pytest_configure(config: pytest.Config) -> None:
    from trm_directus import signals
    from trm_directus.stacks import tally

    signals.install()
    tally.start()  # this process and the commands it runs count their Directus boots into one file


# What a test shows in every run (a matrix's cell count, the attacks' answers, the browser's steps): a test
# calls `evidence(text)`; the text rides on the test's report, so it arrives from xdist workers too, and is
# printed at the end of the run under "what the tests showed".
EVIDENCE = "evidence"
_SHOWN: dict[str, list[str]] = {}


@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    def say(text: str) -> None:
        request.node.user_properties.append((EVIDENCE, text))

    return say


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        lines = [str(v) for k, v in report.user_properties if k == EVIDENCE]
        if lines:
            _SHOWN[report.nodeid] = lines


def pytest_terminal_summary(terminalreporter) -> None:
    from trm_directus.stacks import tally

    if _SHOWN:
        terminalreporter.section("what the tests showed")
        for nodeid, lines in _SHOWN.items():
            terminalreporter.write_line(f"{nodeid}:")
            for text in lines:
                for line in text.strip("\n").splitlines():
                    terminalreporter.write_line(f"  {line}")
    terminalreporter.write_line(tally.summary())
    empty = tally.by_test("empty")
    if empty:  # the full pipeline is the slow path: say who took it
        who = ", ".join(f"{test or '(no test)'} {n}" for test, n in sorted(empty.items()))
        terminalreporter.write_line(f"boots from an empty database: {who}")


# The modules that take longest (seconds, setup and calls, measured in a whole run on the 2-core machine,
# 2026-12-06). `nox -s tests` runs modules on two xdist workers (`--dist loadfile`, whole modules per worker,
# so module and session stacks stay shared): starting the longest first lets both workers end together
# instead of one starting a 2-minute module last. Unit tests always come first; other modules keep their order.
LONGEST = {
    "tests/security/test_attacks.py": 132,
    "tests/integration/test_schema.py": 86,
    "tests/integration/test_stack_cli.py": 78,
    "tests/reliability/test_instances.py": 70,
    "tests/integration/test_access_matrix.py": 63,
    "tests/reliability/test_service_faults.py": 56,
    "tests/integration/test_operations_redis.py": 55,
    "tests/integration/test_backup.py": 48,
    "tests/integration/test_drift_blocked.py": 42,
    "tests/integration/test_migrations.py": 34,
    "tests/integration/test_stack.py": 32,
    "tests/integration/test_howto_add_collection.py": 31,
    "tests/integration/test_model_builder.py": 26,
    "tests/integration/test_admin_ui.py": 26,
    "tests/integration/test_pinned_columns.py": 26,
    "tests/integration/test_commands.py": 23,
    "tests/security/test_payload_keys.py": 22,
}


# The modules on the seeded stack (pytest.mark.stack("seeded"), and tests/security). Under xdist they are one
# unit of work: one worker, one seeded stack, always in the order below, as in a one-process run.
SEEDED_MODULES = ("tests/integration/test_access_matrix.py", "tests/integration/test_admin_ui.py", "tests/security/")


def on_seeded_stack(module: str) -> bool:
    return module.startswith(SEEDED_MODULES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def weight(item: pytest.Item) -> float:
        module = item.nodeid.split("::")[0]
        return -1e9 if module.startswith("tests/unit/") else -LONGEST.get(module, 0)

    items.sort(key=weight)  # stable: tests keep their order within a module
    for item in items:
        marker = item.get_closest_marker("stack")
        seeded = bool(marker and marker.args and marker.args[0] == "seeded")
        if seeded and not on_seeded_stack(item.nodeid):
            raise pytest.UsageError(f"{item.nodeid} is on the seeded stack: add its module to SEEDED_MODULES (tests/conftest.py)")


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, except that the modules on the seeded stack are one unit (xdist's own `loadgroup`
    cannot group them: it renames node ids, which pytest 9 no longer reads)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "seeded stack" if on_seeded_stack(module) else module

    return ModuleScheduling(config, log)


STACK_KINDS = ("own", "shared", "seeded", "empty")
SEEDS = ("rally-albania-2026.yaml", "adriatic-trail-club.yaml")


@pytest.fixture(scope="session")
def shared_stack():
    """One stack from the template for the modules marked stack("shared") (rows under fresh natural keys only)."""
    from trm_directus.stacks.native import NativeStack

    with NativeStack(from_template=True) as s:
        yield s


@pytest.fixture(scope="session")
def seeded_stack():
    """One stack from the template with both seed files loaded, for the modules marked stack("seeded")
    (the access matrix, the admin UI walkthrough); `seeded_in` is how long the seeds took."""
    from trm_directus.directus.api import Directus
    from trm_directus.seed import loader
    from trm_directus.seed import seed_file as document
    from trm_directus.stacks.native import NativeStack

    with NativeStack(from_template=True) as s:
        api = Directus(s.url, s.info.admin_token)
        t0 = time.monotonic()
        for name in SEEDS:
            loader.load(api, document.load(REPO / "seeds" / name))
        s.seeded_in = time.monotonic() - t0
        yield s


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest):
    """The module's Directus stack: its own copy of the template database, or the kind its
    `pytest.mark.stack(KIND)` names (the module docstring above)."""
    from trm_directus.stacks.native import NativeStack

    marker = request.node.get_closest_marker("stack")
    kind = marker.args[0] if marker else "own"
    if kind not in STACK_KINDS:
        raise pytest.UsageError(f"{request.node.nodeid}: pytest.mark.stack({kind!r}): the kinds are {', '.join(STACK_KINDS)}")
    if kind in ("shared", "seeded"):
        yield request.getfixturevalue(f"{kind}_stack")
        return
    with NativeStack(from_template=kind == "own") as s:
        yield s


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A private PostgreSQL (+PostGIS, +TimescaleDB preloaded where installed) cluster on a free port,
    removed at the end of the session."""
    from trm_directus.services.postgres import PostgresCluster

    cluster = PostgresCluster(tmp_path_factory.mktemp("pg"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def cluster_without_timescaledb(tmp_path_factory: pytest.TempPathFactory):
    """A private cluster of a PostgreSQL install that has no TimescaleDB, for the paths production
    takes on such a server. When this machine's install has it (every cluster of an install sees
    the same extensions), the cluster runs a relocated copy of the install without TimescaleDB's
    files: binaries and libraries hard-linked (copied across file systems), share files symlinked.
    PostgreSQL finds its share and library directories relative to its own binaries."""
    import tempfile

    from trm_directus.services import timescaledb
    from trm_directus.services.postgres import PostgresCluster, find_bindir

    bindir = find_bindir()
    root = None
    if timescaledb.available(bindir):
        install = timescaledb.install_of(bindir)
        root = Path(tempfile.mkdtemp(prefix="trm-pg-no-timescaledb-"))
        root.chmod(0o755)  # the server may run as the unprivileged postgres user
        # the same absolute paths under root: pg_config and the server find share relative to bin
        lib = root / bindir.parent.relative_to("/")
        share = root / Path(install.sharedir).relative_to("/")
        lib.parent.mkdir(parents=True)
        share.parent.mkdir(parents=True)
        linked = subprocess.run(["cp", "-al", str(bindir.parent), str(lib)], capture_output=True)
        if linked.returncode:  # another file system: a real copy
            shutil.rmtree(lib, ignore_errors=True)
            shutil.copytree(bindir.parent, lib, symlinks=True)
        subprocess.run(["cp", "-as", str(install.sharedir), str(share)], check=True)
        for gone in [*lib.glob("lib/timescaledb*"), *share.glob("extension/timescaledb*")]:
            gone.unlink()
        bindir = lib / "bin"
        assert not timescaledb.available(bindir), f"{bindir}: the copy still has TimescaleDB"
    cluster = PostgresCluster(tmp_path_factory.mktemp("pg-no-timescaledb"), bindir=bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
        if root:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_db(pg_cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database named after the test (and the xdist worker), dropped before and after."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = re.sub(r"[^a-z0-9_]", "_", f"t_{worker}_{request.node.name}".lower())[:60]
    dsn = pg_cluster.create_database(name, drop=True)
    yield dsn
    pg_cluster.drop_database(name)


def copy_pre_schema_db_init(target: Path) -> Path:
    """The committed pre-schema db-init files only: post-schema files need the Phase 1 collections,
    which tests of the runner, the stacks and the schema tooling (probe schemas) do not create."""
    shutil.copytree(DB_INIT, target, ignore=shutil.ignore_patterns("post"))
    return target


def next_db_init_file(db_init: Path, slug: str) -> Path:
    """A new pre-schema file numbered after the highest one there or in `post/` (a lower number is refused
    as out of order, and numbers are unique across both phases)."""
    highest = max(int(p.name[:3]) for p in [*db_init.glob("[0-9][0-9][0-9]_*.sql"), *db_init.glob("post/[0-9][0-9][0-9]_*.sql")])
    return db_init / f"{highest + 1:03d}_{slug}.sql"


@pytest.fixture
def db_init_copy(tmp_path: Path) -> Path:
    """A private copy of the committed pre-schema db-init files that a test may edit."""
    return copy_pre_schema_db_init(tmp_path / "db-init")


def timescaledb_installed() -> bool:
    """Whether the PostgreSQL of the fixture clusters has TimescaleDB (they then preload it)."""
    from trm_directus.services import timescaledb
    from trm_directus.services.postgres import find_bindir

    return timescaledb.available(find_bindir())


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m trm_directus` as a user would, returning its exit code and output; db-init runs
    in the mode native stacks use (required where the server has TimescaleDB, else optional)."""
    from trm_directus.services import timescaledb
    from trm_directus.services.postgres import find_bindir

    full_env = {**os.environ, "TRM_TIMESCALEDB": timescaledb.db_init_mode(find_bindir()), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "trm_directus", *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO
    )


def admin_env(stack) -> dict[str, str]:
    """The admin token the way a user passes it to a CLI command: in the environment (`--token` on a
    command line is visible to every local user, and the CLI warns about it)."""
    return {"DIRECTUS_TOKEN": stack.info.admin_token}


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, params or None).fetchall()


def execute(dsn: str, sql: str, params: tuple = ()) -> int:
    """Run a statement that returns no rows; the affected row count."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, params or None).rowcount


def db_env(dsn: str) -> dict[str, str]:
    """The DB_* variables (what Directus and the boot steps read) for a DSN."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    return {
        "DB_CLIENT": "pg",
        "DB_HOST": str(parts.get("host", "127.0.0.1")),
        "DB_PORT": str(parts.get("port", 5432)),
        "DB_DATABASE": str(parts["dbname"]),
        "DB_USER": str(parts["user"]),
        "DB_PASSWORD": str(parts.get("password", "")),
    }
