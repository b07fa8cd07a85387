"""The admin UI browser test's rules: which console errors fail it (everything but Directus's own noise),
and that it is skipped, saying why, before any stack boots when there is no browser."""

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.browser import ConsoleEntry, Session, format_title

REPO = Path(__file__).resolve().parents[2]


def session(*entries: ConsoleEntry) -> Session:
    s = Session(page=None, out=None, report=print)
    s.errors = list(entries)
    return s


def test_directus_noise_is_allowed_and_everything_else_fails():
    favicon = ConsoleEntry("entries-list", "404 (Not Found)", "http://x/favicon.ico")
    probe = ConsoleEntry("login", "400 (Bad Request)", "http://x/auth/refresh")
    late_probe = ConsoleEntry("create-entry", "401 (Unauthorized)", "http://x/auth/refresh")
    crash = ConsoleEntry("create-entry", "uncaught: TypeError: x is undefined", "")
    refused = ConsoleEntry("duplicate-race-number", "400 (Bad Request)", "http://x/items/entries")
    s = session(favicon, probe, late_probe, crash, refused)
    assert s.unexpected() == [late_probe, crash, refused]
    s.expected.append(("/items/entries", "duplicate-race-number"))
    assert s.unexpected() == [late_probe, crash]


def test_default_column_names_follow_directus():
    assert [format_title(k) for k in ("race_number", "class_id", "last_name", "regulation_doc_url")] == [
        "Race Number",
        "Class ID",
        "Last Name",
        "Regulation Doc URL",
    ]


def test_without_chromium_the_browser_test_is_skipped_with_the_reason_before_any_stack_boots(tmp_path):
    tally = tmp_path / "tally.txt"
    env = {
        **os.environ,
        "TRM_CHROMIUM": str(tmp_path / "no-chromium"),
        "TRM_STACK_TALLY": str(tally),  # every Directus boot (and template build) would add a line
        "TRM_CACHE_DIR": str(tmp_path / "empty-cache"),  # no Directus install to boot one with either
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "tests/integration/test_admin_ui.py"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 skipped" in run.stdout and f"browser test skipped: {tmp_path / 'no-chromium'} is missing" in run.stdout
    assert not tally.exists() or tally.read_text() == ""
    assert not (tmp_path / "empty-cache").exists()
