"""The fault-injection suite's table: every test marked `fault` reports fault → outcome → data lost.

A test declares the fault it injects with `@pytest.mark.fault("database down at boot")` and tells
what happened through the `fault_report` fixture (`fault_report.outcome = "boot fails in 12 s,
step 1/5 named"`, `fault_report.data_lost = "none"`). The table is printed at the end of the run
(`nox -s reliability`, or any pytest run that includes these tests); a test that failed shows as
FAILED whatever it reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

_ROWS: list[dict[str, str]] = []


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
    row = {"fault": str(marker.args[0]), "test": request.node.nodeid, "status": "not run"}
    _ROWS.append(row)
    yield report
    row.update(outcome=report.outcome or "(no outcome reported)", data_lost=report.data_lost)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    for row in _ROWS:
        if row["test"] == item.nodeid and (rep.when == "call" or rep.failed):
            row["status"] = (
                "passed" if rep.passed and row.get("status") != "FAILED" else ("FAILED" if rep.failed else row["status"])
            )


def pytest_terminal_summary(terminalreporter):
    if not _ROWS:
        return
    tr = terminalreporter
    tr.section("fault-injection table: fault → outcome → data lost")
    width = max(len(r["fault"]) for r in _ROWS)
    for r in _ROWS:
        tr.write_line(f"{r['fault']:<{width}}  [{r['status']}]  {r.get('outcome', '')}  | data lost: {r.get('data_lost', '?')}")
