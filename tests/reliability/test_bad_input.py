"""Bad input: every malformed or hostile file is refused with a clear message, never a traceback or a hang.

Each test runs the real command (`python -m trm_directus …`) or the real loader on the bad input
and reports to the fault-injection table (tests/reliability/conftest.py).
"""

from __future__ import annotations

import copy
import os
import resource
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, query, run_cli
from trm_directus.dbinit import sqlsplit
from trm_directus.documents.validation import fmt_path
from trm_directus.errors import SeedError
from trm_directus.seed import seed_file as document

RALLY = REPO / "seeds" / "rally-albania-2026.yaml"


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.count("FAILED:") == 1, result.stderr[-3000:]


def run_limited(*args: str, memory_mb: int = 1024, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI with an address-space limit: input that blows up memory fails the test instead of the machine."""

    def limit() -> None:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return subprocess.run(
        [sys.executable, "-m", "trm_directus", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        preexec_fn=limit,
    )


# --- YAML -------------------------------------------------------------------------------------------


@pytest.mark.fault("duplicate key in a seed file")
def test_duplicate_key_in_a_seed_is_an_error_with_file_and_line(tmp_path, fault_report):
    text = RALLY.read_text()
    # A second `name:` in the first organisation: YAML loaders silently keep the last one.
    text = text.replace("    name: Motorsport Club Albania\n", "    name: Motorsport Club Albania\n    name: Somebody Else\n", 1)
    seed = tmp_path / "dup.yaml"
    seed.write_text(text)
    line = text.splitlines().index("    name: Somebody Else") + 1
    result = run_cli("seed", str(seed), "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    no_traceback(result)
    assert f"{seed}:{line}: duplicate key 'name' (first at line {line - 1})" in result.stderr
    fault_report.outcome = f"refused: {seed.name}:{line}: duplicate key 'name' (first at line {line - 1})"
    fault_report.data_lost = "none (validation only, nothing written)"


@pytest.mark.fault("duplicate key in a schema snapshot")
def test_duplicate_key_in_a_snapshot_is_an_error_with_file_and_line(tmp_path, fault_report):
    from trm_directus.errors import SnapshotError
    from trm_directus.schema import snapshot

    text = (REPO / "snapshots" / "schema.yaml").read_text().replace("vendor: postgres\n", "vendor: postgres\nvendor: mysql\n", 1)
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SnapshotError) as info:
        snapshot.read(path)
    assert f"{path}:4: duplicate key 'vendor' (first at line 3)" in info.value.render()
    fault_report.outcome = "refused before any apply: schema.yaml:4: duplicate key 'vendor'"
    fault_report.data_lost = "none"


def _mutations(doc, path=()):
    """Every (path, wrong value) pair: each value in the document replaced by values of other types."""
    wrong = ([], {}, 7, 2.5, True, None, "text", [{"x": 1}], {"a": [1]})
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return
    for key, value in items:
        for bad in wrong:
            if type(bad) is not type(value):
                yield (*path, key), bad
        yield from _mutations(value, (*path, key))


def _set(doc, path, value):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


@pytest.mark.fault("wrong types everywhere in a seed (every value replaced by each other type)")
def test_every_wrong_type_in_a_seed_gives_the_problem_list_not_a_traceback(fault_report):
    base = yaml.safe_load(RALLY.read_text())
    for stage in base["events"][0].get("stages", [])[1:]:
        stage.pop("course", None)  # one course file keeps each check fast; its paths are exercised all the same
    crashes: list[str] = []
    refused = accepted = 0
    for path, bad in _mutations(base):
        doc = copy.deepcopy(base)
        _set(doc, path, bad)
        try:
            document.check(doc, str(RALLY))  # the validator alone (course paths resolve next to the seed)
            accepted += 1  # e.g. an optional value set to null
        except SeedError as exc:
            assert f"{RALLY}:" in exc.render()
            refused += 1
        except Exception as exc:  # what this test looks for: anything but SeedError is a crash
            crashes.append(f"{fmt_path(path)} = {bad!r}: {type(exc).__name__}: {exc}")
    assert not crashes, f"{len(crashes)} tracebacks, e.g.:\n" + "\n".join(crashes[:15])
    assert refused > 1000
    fault_report.outcome = f"{refused + accepted} mutations: {refused} refused with file:line lists, 0 tracebacks"
    fault_report.data_lost = "none (validation only)"


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


@pytest.mark.fault("billion-laughs seed file (aliases expanding to 10^9 nodes)")
def test_billion_laughs_cannot_blow_up_memory(tmp_path, fault_report):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    result = run_limited("seed", str(bomb), "--check")
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    no_traceback(result)
    assert f"{bomb}:" in result.stderr and "alias" in result.stderr
    message = next(ln for ln in result.stderr.splitlines() if "alias" in ln)
    fault_report.outcome = "refused under a 1 GiB memory cap: " + message.removeprefix("FAILED: ").replace(f"{tmp_path}/", "")
    fault_report.data_lost = "none"


@pytest.mark.fault("seed nested 5000 levels deep")
def test_deeply_nested_yaml_is_refused_cleanly(tmp_path, fault_report):
    deep = tmp_path / "deep.yaml"
    deep.write_text("organizations: " + "[" * 5000 + "]" * 5000 + "\n")
    result = run_limited("seed", str(deep), "--check")
    assert result.returncode == 1
    no_traceback(result)
    assert f"{deep}:1: nested deeper than" in result.stderr
    fault_report.outcome = "refused: nested deeper than the limit (no RecursionError)"
    fault_report.data_lost = "none"


@pytest.mark.fault("seed file that is not UTF-8")
def test_non_utf8_seed_is_a_clear_error(tmp_path, fault_report):
    seed = tmp_path / "latin1.yaml"
    text = RALLY.read_text().replace("Motorsport Club Albania", "Motorsport Club Shqipëri")
    seed.write_bytes(text.encode("latin-1", errors="replace"))  # ë becomes the single byte 0xeb
    result = run_cli("seed", str(seed), "--check")
    assert result.returncode == 1
    no_traceback(result)
    assert f"{seed}: not UTF-8" in result.stderr
    fault_report.outcome = "refused: file: not UTF-8 (byte offset named)"
    fault_report.data_lost = "none"


# --- db-init -----------------------------------------------------------------------------------------


def _db_init(tmp_path: Path) -> Path:
    root = tmp_path / "db-init"
    root.mkdir()
    (root / "001_first.sql").write_text("CREATE TABLE first_table (x int);\n")
    return root


def _make_special(kind: str, path: Path, tmp_path: Path) -> None:
    if kind == "symbolic link":
        outside = tmp_path / "outside.sql"
        outside.write_text("CREATE TABLE from_outside (x int);\n")
        path.symlink_to(outside)
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "socket":
        socket.socket(socket.AF_UNIX).bind(str(path))
    elif kind == "character device":
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    else:
        path.write_bytes(b"SELECT '\xe9t\xe9';\n")  # latin-1


SPECIAL = {"symbolic link": "is a symbolic link", "FIFO": "is a FIFO", "socket": "is a socket"}
SPECIAL |= {"character device": "is a character device", "not UTF-8": "not UTF-8"}


def _fault(kind: str) -> str:
    return f"db-init file that is {kind if kind == 'not UTF-8' else 'a ' + kind}"


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.fault(_fault(k))) for k in SPECIAL])
def test_special_or_undecodable_db_init_file_is_a_clear_error(kind, tmp_path, fresh_db, fault_report):
    root = _db_init(tmp_path)
    target = root / "002_bad.sql"
    try:
        _make_special(kind, target, tmp_path)
    except PermissionError as exc:
        pytest.skip(f"cannot create a {kind} here ({exc}); run as root to include it")
    expected = SPECIAL[kind]
    result = run_cli("migrate", "--dir", str(root), "--dsn", fresh_db, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    no_traceback(result)
    assert str(target) in result.stderr and expected in result.stderr and "nothing was run" in result.stderr
    assert query(fresh_db, "SELECT to_regclass('first_table'), to_regclass('from_outside')")[0] == (None, None)
    fault_report.outcome = f"refused before anything ran: 002_bad.sql {expected}"
    fault_report.data_lost = "none (no file applied)"


@pytest.mark.fault("db-init post/ directory that is a symbolic link")
def test_symlinked_post_directory_is_refused(tmp_path, fresh_db, fault_report):
    root = _db_init(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "100_post.sql").write_text("SELECT 1;\n")
    (root / "post").symlink_to(elsewhere)
    result = run_cli("migrate", "--dir", str(root), "--dsn", fresh_db, "--phase", "all")
    assert result.returncode == 1
    no_traceback(result)
    assert f"{root / 'post'}: is a symbolic link" in result.stderr
    fault_report.outcome = "refused: post/ is a symbolic link"
    fault_report.data_lost = "none"


HIDDEN_COMMITS = {
    "block comment": "/* harmless */ COMMIT;",
    "nested block comment": "/* outer /* inner */ still a comment */ COMMIT;",
    "multi-line block comment": "/*\n * looks like a header\n */\nBEGIN;",
    "comment text inside dollar quotes": "SELECT $x$ /* $x$;\nCOMMIT;\n-- */",
    "END after a comment": "-- finish\n/* now */ END;",
    "PREPARE TRANSACTION": "/* 2pc */ PREPARE TRANSACTION 'x';",
}


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.fault(f"COMMIT/BEGIN hidden behind a comment ({c})")) for c in HIDDEN_COMMITS]
)
def test_transaction_control_hidden_behind_comments_is_refused(case, tmp_path, fresh_db, fault_report):
    root = _db_init(tmp_path)
    # If the hidden COMMIT ran, first_table would be committed before the syntax error below failed the file.
    (root / "001_first.sql").write_text(f"CREATE TABLE first_table (x int);\n{HIDDEN_COMMITS[case]}\nCREATE TABLE broken (;\n")
    result = run_cli("migrate", "--dir", str(root), "--dsn", fresh_db)
    assert result.returncode == 1
    no_traceback(result)
    assert "cannot be used: the runner wraps each file in one transaction" in result.stderr
    assert query(fresh_db, "SELECT to_regclass('first_table')")[0][0] is None
    message = next(ln for ln in result.stderr.splitlines() if "cannot be used" in ln).strip()
    fault_report.outcome = "refused at discovery: " + message.replace(f"{root}/", "")
    fault_report.data_lost = "none (no partial file committed)"


def test_comments_inside_strings_and_function_bodies_do_not_trigger_the_check():
    ok = [
        "DO $$ BEGIN /* COMMIT */ PERFORM 1; END $$",
        "SELECT '/* not a comment */ COMMIT'",
        "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
        "/* lead */ CREATE TABLE t (x int) -- BEGIN",
        "COMMENT ON TABLE t IS 'BEGIN; COMMIT;'",
    ]
    for sql in ok:
        assert sqlsplit.transaction_control(sqlsplit.Statement(sql, 1)) is None, sql


# --- secrets in output -------------------------------------------------------------------------------


@pytest.mark.fault("key=value DSN with a password, database unreachable")
def test_password_in_a_key_value_dsn_never_reaches_the_output(fault_report):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    dsn = f"host=127.0.0.1 port={port} dbname=trm user=trm password='hunter2 secret' connect_timeout=1"
    result = run_cli("migrate", "--dir", str(REPO / "db-init"), "--dsn", dsn, "--timeout", "1.5")
    assert result.returncode == 1
    no_traceback(result)
    output = result.stdout + result.stderr
    assert "hunter2" not in output and "secret" not in output
    assert "password=***" in output
    fault_report.outcome = "bounded wait, then FAILED naming the masked DSN (password=***)"
    fault_report.data_lost = "none"
