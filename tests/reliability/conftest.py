"""The fault-injection suite's table: every test marked `fault` reports fault → outcome → data lost.

A test declares the fault it injects with `@pytest.mark.fault("database down at boot")` and tells
what happened through the `fault_report` fixture (`fault_report.outcome = "boot fails in 12 s,
step 1/5 named"`, `fault_report.data_lost = "none"`). The table is printed at the end of the run
(`nox -s reliability`, or any pytest run that includes these tests); a test that failed shows as
FAILED whatever it reported, a deselected or skipped one does not appear (skips say why in the
short summary).

Tests marked `slow` restart several Directus processes one after the other (minutes): `nox -s tests` deselects them
(and says so), `nox -s reliability` runs them. A module's `stack` comes from tests/conftest.py.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

import pytest

# Filled from the tests' reports (on the xdist controller too): the row a test's `fault_report` put on its
# report, and the test's status from every phase of it.
_ROWS: dict[str, dict[str, str]] = {}
FAULT = "fault-row"
_STATUS: dict[str, str] = {}  # a test's status so far, from the reports of its phases
WIDTHS = {"fault": 26, "status": 6, "outcome": 56, "data_lost": 28}  # 129 columns in all
HEADERS = {"fault": "fault", "status": "result", "outcome": "outcome", "data_lost": "data lost"}


@dataclass
class FaultReport:
    outcome: str = ""
    data_lost: str = "not reported"


@pytest.fixture
def fault_report(request: pytest.FixtureRequest):
    marker = request.node.get_closest_marker("fault")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses fault_report without @pytest.mark.fault(...)")
    report = FaultReport()
    yield report
    row = {"fault": str(marker.args[0]), "outcome": report.outcome or "(no outcome reported)", "data_lost": report.data_lost}
    request.node.user_properties.append((FAULT, json.dumps(row)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    status = _STATUS.setdefault(report.nodeid, "not run")
    if report.failed:
        _STATUS[report.nodeid] = "FAILED"
    elif report.when == "call" and report.passed and status != "FAILED":
        _STATUS[report.nodeid] = "passed"
    elif report.skipped and status == "not run":
        _STATUS[report.nodeid] = "skipped"
    if report.when == "teardown":
        for key, value in report.user_properties:
            if key == FAULT:
                _ROWS[report.nodeid] = {**json.loads(value), "test": report.nodeid}
        status = _STATUS.pop(report.nodeid, "not run")
        if report.nodeid in _ROWS:
            _ROWS[report.nodeid]["status"] = status


def render(rows: list[dict[str, str]]) -> list[str]:
    """A plain-text table whose cells wrap at fixed widths (it must stay readable in a CI log)."""
    cols = list(WIDTHS)
    rule = "+" + "+".join("-" * (WIDTHS[c] + 2) for c in cols) + "+"
    lines = [rule, "| " + " | ".join(HEADERS[c].ljust(WIDTHS[c]) for c in cols) + " |", rule.replace("-", "=")]
    for row in rows:
        cells = {c: textwrap.wrap(str(row.get(c, "")), WIDTHS[c]) or [""] for c in cols}
        for i in range(max(len(v) for v in cells.values())):
            lines.append("| " + " | ".join((cells[c][i] if i < len(cells[c]) else "").ljust(WIDTHS[c]) for c in cols) + " |")
        lines.append(rule)
    return lines


def pytest_terminal_summary(terminalreporter):
    if not _ROWS:
        return
    rows = list(_ROWS.values())
    tr = terminalreporter
    tr.section("fault-injection table: fault → outcome → data lost")
    for line in render(rows):
        tr.write_line(line)
    passed = [r for r in rows if r["status"] == "passed"]
    failed = [r for r in rows if r["status"] == "FAILED"]
    lost = [r["fault"] for r in passed if r.get("data_lost", "").split(" ")[0] != "none"]
    verdict = ", ".join(lost) if lost else "none"
    if failed:
        verdict += f" in the passed ones; unknown for the {len(failed)} that failed"
    tr.write_line(f"{len(rows)} fault(s): {len(passed)} passed, {len(failed)} failed; data lost: {verdict}")
