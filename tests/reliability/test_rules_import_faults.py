"""SIGTERM during a rules re-import that supersedes a rule with penalties attached: restored exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, query, run_cli
from tests.integration.graph import TimingGraph
from tests.reliability.faults import FaultProxy, Rule
from trm_directus.directus.api import Directus

pytestmark = [pytest.mark.integration, pytest.mark.directus]

RULES = (REPO / "seeds" / "rally-albania-2026-rules.yaml").read_text().replace("event: rally-albania-2026\n", "")
ROWS = (
    "SELECT id, type, waypoint_type, belongs_to_type, offence_min, offence_max, operator, penalty_seconds, placeholder, "
    "enabled, superseded_at, summary FROM penalty_formulas WHERE event_id = %s ORDER BY id"
)
LINKS = "SELECT p.id, p.formula_id FROM entry_penalties p JOIN entries e ON e.id = p.entry_id WHERE e.event_id = %s ORDER BY p.id"


@pytest.fixture
def proxy(stack):
    p = FaultProxy(stack.url)
    yield p
    p.close()


@pytest.mark.fault("SIGTERM during a rules re-import")
def test_sigterm_during_a_rules_reimport_restores_every_formula_and_penalty_link(stack, proxy, tmp_path, fault_report):
    token = {"DIRECTUS_TOKEN": stack.info.admin_token}
    tg = TimingGraph(Directus(stack.url, stack.info.admin_token))
    stage = tg.stage()
    event = tg.api.get(f"/items/events/{stage['event_id']}")
    first = tmp_path / "rules.yaml"
    first.write_text(RULES)
    assert run_cli("rules-import", str(first), "--event", event["slug"], "--against", stack.url, env=token).returncode == 0
    speeding = query(
        stack.info.dsn,
        "SELECT id, penalty_seconds FROM penalty_formulas WHERE event_id = %s AND type = 'speeding'",
        (event["id"],),
    )
    racer = tg.racer(event)
    for n, (formula, seconds) in enumerate(speeding):  # a penalty computed from each bracket
        tg.penalty(racer, stage, seconds=seconds, formula_id=str(formula), dedupe_key=f"speeding:{n}")
    rows, links = query(stack.info.dsn, ROWS, (event["id"],)), query(stack.info.dsn, LINKS, (event["id"],))
    assert len(links) == len(speeding) == 3

    changed = tmp_path / "regulation.yaml"
    changed.write_text(
        RULES.replace("{over: 40, minutes: 3}", "{over: 40, up_to: 60, minutes: 3}\n      - {over: 60, minutes: 6}")
    )
    held = proxy.add(Rule("POST", "/items/penalty_formulas", "hold"))  # Directus writes them; the answer never comes
    run = subprocess.Popen(
        [sys.executable, "-m", "trm_directus", "rules-import", str(changed), "--event", event["slug"], "--against", proxy.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **token},
    )
    assert held.arrived.wait(120), "the import never reached POST /items/penalty_formulas"
    superseded = query(
        stack.info.dsn, "SELECT count(*) FROM penalty_formulas WHERE event_id = %s AND superseded_at IS NOT NULL", (event["id"],)
    )
    assert superseded == [(3,)]  # the old brackets are already superseded when the signal comes
    t0 = time.monotonic()
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    took = time.monotonic() - t0
    assert run.returncode == 1, err
    assert "FAILED: rules import interrupted by SIGTERM" in err and "nothing is left half-applied" in err, err
    assert "Traceback" not in err
    assert query(stack.info.dsn, ROWS, (event["id"],)) == rows  # same ids, values, summaries: exactly what was there
    assert query(stack.info.dsn, LINKS, (event["id"],)) == links  # every penalty still points at its formula
    again = run_cli("rules-import", str(changed), "--event", event["slug"], "--against", stack.url, env=token)
    assert again.returncode == 0, again.stderr
    assert query(stack.info.dsn, LINKS, (event["id"],)) == links  # and after the re-import done right: superseded, linked
    fault_report.outcome = (
        f"exit 1 {took:.1f}s after SIGTERM with the new brackets written but unanswered: 'interrupted by SIGTERM', undo "
        "deleted them by id and un-superseded the old rows; every row and penalty link as before; the next run completed"
    )
    fault_report.data_lost = "none (formula ids, values and penalty links unchanged)"
