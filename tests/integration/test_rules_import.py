"""`rules-import` against a real stack: validated first, idempotent by natural keys, all or nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, execute, query, run_cli
from tests.integration.graph import TimingGraph, square
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError, RulesError
from trm_directus.rules import load as rules_load
from trm_directus.rules import rules_file as rules

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

RALLY_RULES = REPO / "seeds" / "rally-albania-2026-rules.yaml"


@pytest.fixture
def tg(api) -> TimingGraph:
    return TimingGraph(api)


def cli(stack, *args: str):
    return run_cli("rules-import", *args, "--against", stack.url, env={"DIRECTUS_TOKEN": stack.info.admin_token})


def formulas(stack, event_id: str) -> list[tuple]:
    """The event's current rule rows (superseded ones are history: `history`)."""
    return query(
        stack.info.dsn,
        "SELECT type, coalesce(waypoint_type, ''), belongs_to_type, offence_min, offence_max, penalty_seconds, placeholder "
        "FROM penalty_formulas WHERE event_id = %s AND superseded_at IS NULL "
        "ORDER BY type, waypoint_type NULLS FIRST, belongs_to_type, offence_min",
        (event_id,),
    )


def every_row(stack, event_id: str) -> list[tuple]:
    """Every formula row of the event as stored, ids and history included: what an undo must restore exactly."""
    return query(
        stack.info.dsn,
        "SELECT id, type, waypoint_type, belongs_to_type, offence_min, offence_max, operator, penalty_seconds, placeholder, "
        "enabled, superseded_at, summary FROM penalty_formulas WHERE event_id = %s ORDER BY id",
        (event_id,),
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def rally(tmp_path: Path, text: str | None = None) -> Path:
    """The Rally Albania rules (or an edited text of them) for another event: without their `event:` line."""
    path = tmp_path / "rally-rules.yaml"
    path.write_text((text or RALLY_RULES.read_text()).replace("event: rally-albania-2026\n", ""))
    return path


def test_rally_rules_import_once_then_change_nothing(tg, stack, tmp_path):
    event = tg.event()
    mismatch = cli(stack, str(RALLY_RULES), "--event", event["slug"])
    assert mismatch.returncode == 1 and "this file is for event 'rally-albania-2026'" in mismatch.stderr
    first = cli(stack, str(rally(tmp_path)), "--event", event["slug"])
    assert first.returncode == 0, first.stderr
    assert "penalty_formulas              6        0          0" in first.stdout
    assert "6 formula row(s) are PLACEHOLDER" in first.stdout
    assert formulas(stack, event["id"]) == [
        ("missed_waypoint", "", "event", None, None, 900, True),
        ("missed_waypoint", "WPN", "event", None, None, 3600, True),
        ("missed_waypoint", "WPP", "event", None, None, 120, True),
        ("speeding", "", "event", 0, 20, 60, True),
        ("speeding", "", "event", 20, 40, 120, True),
        ("speeding", "", "event", 40, None, 180, True),
    ]
    again = cli(stack, str(rally(tmp_path)), "--event", event["slug"])
    assert again.returncode == 0, again.stderr
    assert "no changes: the database already holds these rules" in again.stdout


def test_the_regulation_replaces_placeholders_in_place_and_changed_brackets_as_a_whole(tg, stack, tmp_path):
    stage = tg.stage()
    event = tg.api.get(f"/items/events/{stage['event_id']}")
    assert cli(stack, str(rally(tmp_path)), "--event", event["slug"]).returncode == 0
    old_top = query(stack.info.dsn, "SELECT id FROM penalty_formulas WHERE event_id = %s AND offence_min = 40", (event["id"],))[
        0
    ][0]
    racer = tg.racer(event)
    used = tg.penalty(racer, stage, seconds=180, formula_id=str(old_top), formula_snapshot={"offence_min": 40, "seconds": 180})
    regulation = RALLY_RULES.read_text().replace("placeholder: true", "placeholder: false").replace("minutes: 60", "minutes: 45")
    regulation = regulation.replace("{over: 40, minutes: 3}", "{over: 40, up_to: 60, minutes: 3}\n      - {over: 60, minutes: 6}")
    path = rally(tmp_path, regulation)
    dry = cli(stack, str(path), "--event", event["slug"], "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would be created" in dry.stdout and "dry run: nothing written" in dry.stdout
    assert all(row[-1] for row in formulas(stack, event["id"]))  # nothing written
    done = cli(stack, str(path), "--event", event["slug"])
    assert done.returncode == 0, done.stderr
    assert "brackets changed, superseding its 3 row(s) (kept, disabled)" in done.stderr
    assert formulas(stack, event["id"]) == [
        ("missed_waypoint", "", "event", None, None, 900, False),
        ("missed_waypoint", "WPN", "event", None, None, 2700, False),
        ("missed_waypoint", "WPP", "event", None, None, 120, False),
        ("speeding", "", "event", 0, 20, 60, False),
        ("speeding", "", "event", 20, 40, 120, False),
        ("speeding", "", "event", 40, 60, 180, False),
        ("speeding", "", "event", 60, None, 360, False),
    ]
    # The penalty still points at the row it was computed from, which keeps its values and says it was superseded.
    kept = tg.api.get(f"/items/entry_penalties/{used['id']}", fields="formula_id.*,formula_snapshot")
    assert kept["formula_id"]["id"] == str(old_top) and kept["formula_snapshot"] == {"offence_min": 40, "seconds": 180}
    assert (kept["formula_id"]["offence_min"], kept["formula_id"]["offence_max"], kept["formula_id"]["penalty_seconds"]) == (
        40,
        None,
        180,
    )
    assert kept["formula_id"]["superseded_at"] is not None and kept["formula_id"]["enabled"] is False
    history = query(
        stack.info.dsn,
        "SELECT offence_min, offence_max, placeholder FROM penalty_formulas WHERE event_id = %s AND superseded_at IS NOT NULL "
        "ORDER BY offence_min",
        (event["id"],),
    )
    assert history == [(0, 20, True), (20, 40, True), (40, None, True)]  # the speeding rule as it was, all three rows
    # The processor never picks a superseded row: the formula for an offence of 50 km/h is the new bracket.
    picked = query(
        stack.info.dsn,
        "SELECT offence_min, penalty_seconds FROM trm_timing.penalty_formula_for('speeding', 'event', %s)",
        (event["id"],),
    )
    assert picked == [(0, 60), (20, 120), (40, 180), (60, 360)]
    assert "no changes" in cli(stack, str(path), "--event", event["slug"]).stdout


def test_targets_maximum_times_and_radius_defaults_resolve_by_natural_keys(tg, stack, tmp_path):
    stage = tg.stage(name="Stage 3")
    event = tg.api.get(f"/items/events/{stage['event_id']}")
    seg = tg.segment(stage, sort_order=2)
    wp = tg.waypoint(seg, code="WP7", type="WPM")
    zone = tg.api.post(
        "/items/speed_limit_zones", {"segment_id": seg["id"], "name": "Fushë-Arrëz", "speed_limit_kmh": 50, "geometry": square()}
    )
    path = write(
        tmp_path,
        """\
        formulas:
          - {type: dnf, minutes: 120, at: {stage: Stage 3}}
          - {type: late_arrival, operator: per_unit, minutes: 1, at: {stage: Stage 3, segment: 2}}
          - {type: missed_waypoint, minutes: 30, at: {stage: Stage 3, segment: 2, waypoint: WP7}}
          - type: speeding
            at: {stage: Stage 3, segment: 2, speed_zone: Fushë-Arrëz}
            brackets: [{over: 0, up_to: 10, seconds: 30}, {over: 10, minutes: 5}]
        radius_defaults:
          - {type: WPS, open: 1000, validation: 90}
        maximum_times:
          - {stage: Stage 3, segment: 2, max_minutes: 330, target_minutes: 240}
        """,
    )
    result = cli(stack, str(path), "--event", event["slug"])
    assert result.returncode == 0, result.stderr
    targets = query(
        stack.info.dsn,
        "SELECT belongs_to_type, belongs_to_id::text, count(*) FROM penalty_formulas WHERE event_id = %s "
        "GROUP BY 1, 2 ORDER BY 1",
        (event["id"],),
    )
    assert targets == [
        ("segment", seg["id"], 1),
        ("speed_limit_zone", zone["id"], 2),
        ("stage", stage["id"], 1),
        ("waypoint", wp["id"], 1),
    ]
    segment = tg.api.get(f"/items/segments/{seg['id']}")
    assert (segment["max_duration_seconds"], segment["target_duration_seconds"]) == (19800, 14400)
    defaults = tg.api.get("/items/waypoint_radius_defaults", filter={"event_id": {"_eq": event["id"]}})
    assert [(d["waypoint_type"], d["open_radius_m"], d["validation_radius_m"]) for d in defaults] == [("WPS", 1000, 90)]
    winning = query(
        stack.info.dsn,
        "SELECT penalty_seconds FROM trm_timing.penalty_formula_for('speeding', 'speed_limit_zone', %s)",
        (zone["id"],),
    )
    assert winning == [(30,), (300,)]
    assert "no changes" in cli(stack, str(path), "--event", event["slug"]).stdout


def test_unknown_targets_are_listed_with_their_line_and_nothing_is_written(tg, stack, tmp_path):
    stage = tg.stage(name="Stage 1")
    event = tg.api.get(f"/items/events/{stage['event_id']}")
    path = write(
        tmp_path,
        """\
        radius_defaults:
          - {type: WPS, open: 1000, validation: 90}
        formulas:
          - {type: dnf, minutes: 120, at: {stage: Stage 1}}
          - {type: dns, minutes: 120, at: {stage: Stage 9}}
          - {type: missed_waypoint, minutes: 30, at: {stage: Stage 1, segment: 4, waypoint: WP7}}
        maximum_times:
          - {stage: Stage 1, segment: 4, max_minutes: 330}
        """,
    )
    result = cli(stack, str(path), "--event", event["slug"])
    assert result.returncode == 1
    assert "3 problem(s); nothing was written" in result.stderr
    assert f"{path}:5: formulas[1].at: unknown stage 'Stage 9' in this event (known: Stage 1)" in result.stderr
    assert f"{path}:6: formulas[2].at: stage 'Stage 1' has no segment with sort order 4" in result.stderr
    assert f"{path}:8: maximum_times[0]:" in result.stderr
    assert formulas(stack, event["id"]) == []
    assert tg.api.get("/items/waypoint_radius_defaults", filter={"event_id": {"_eq": event["id"]}}) == []
    bad = cli(stack, str(write(tmp_path, "formulas:\n  - {type: dnf, minutes: -1}\n")), "--event", event["slug"])
    assert bad.returncode == 1 and "formulas[0].minutes: must not be negative" in bad.stderr
    missing = cli(stack, str(rally(tmp_path)), "--event", "no-such-event")
    assert missing.returncode == 1 and "no event 'no-such-event'" in missing.stderr


class FailingCreates(Directus):
    """The stack's API, except that the first creation of formulas fails (a request failing after validation)."""

    failed = False

    def post(self, path, body, **params):
        if path == "/items/penalty_formulas" and not self.failed:
            self.failed = True
            raise DirectusError(f"POST {path} -> HTTP 503: injected failure", status=503)
        return super().post(path, body, **params)


def test_a_failure_after_a_rule_was_superseded_restores_it_exactly(tg, stack, tmp_path):
    stage = tg.stage()
    event = tg.api.get(f"/items/events/{stage['event_id']}")
    assert cli(stack, str(rally(tmp_path)), "--event", event["slug"]).returncode == 0
    top = query(stack.info.dsn, "SELECT id FROM penalty_formulas WHERE event_id = %s AND offence_min = 40", (event["id"],))[0][0]
    used = tg.penalty(tg.racer(event), stage, seconds=180, formula_id=str(top))
    before = every_row(stack, event["id"])
    changed = rules.load(rally(tmp_path))
    changed.rules[-1].rows[-1]["offence_max"] = 80  # brackets differ: the rule is replaced (supersede, then create)
    changed.rules[-1].rows.append({"offence_min": 80, "offence_max": None, "operator": "flat", "penalty_seconds": 600})
    with pytest.raises(RulesError) as info:
        rules_load.import_rules(FailingCreates(stack.url, stack.info.admin_token), changed, event["slug"])
    assert "nothing is left half-applied" in info.value.render()
    assert every_row(stack, event["id"]) == before  # the same ids, values, summaries; nothing superseded
    assert tg.api.get(f"/items/entry_penalties/{used['id']}")["formula_id"] == str(top)


def test_a_superseded_row_keeps_its_values(tg, stack, tmp_path):
    event = tg.event()
    assert cli(stack, str(rally(tmp_path)), "--event", event["slug"]).returncode == 0
    changed = RALLY_RULES.read_text().replace(
        "{over: 40, minutes: 3}", "{over: 40, up_to: 60, minutes: 3}\n      - {over: 60, minutes: 6}"
    )
    assert cli(stack, str(rally(tmp_path, changed)), "--event", event["slug"]).returncode == 0
    old = query(
        stack.info.dsn,
        "SELECT id FROM penalty_formulas WHERE event_id = %s AND superseded_at IS NOT NULL LIMIT 1",
        (event["id"],),
    )
    with pytest.raises(DirectusError) as info:
        tg.api.patch(f"/items/penalty_formulas/{old[0][0]}", {"penalty_seconds": 1, "offence_min": 1})
    assert "a superseded row is history" in str(info.value)
    with pytest.raises(psycopg.errors.CheckViolation):
        execute(stack.info.dsn, "UPDATE penalty_formulas SET penalty_seconds = 1 WHERE id = %s", (old[0][0],))
