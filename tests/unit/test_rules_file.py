"""An event's rules file (rules-import): every problem named with file:line before anything is written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from trm_directus.errors import RulesError, SeedError
from trm_directus.rules import rules_file as rules
from trm_directus.seed import seed_file as document

RULES = Path(__file__).resolve().parents[2] / "seeds" / "rally-albania-2026-rules.yaml"


def problems(text: str, **kwargs) -> list[str]:
    _, found = rules.parse(textwrap.dedent(text), "rules.yaml", **kwargs)
    return found.items


def test_the_rally_albania_rules_are_the_reference_values_marked_placeholder():
    doc = rules.load(RULES, event="rally-albania-2026")
    table = {
        (r.type, r.waypoint_type): [(x["offence_min"], x["offence_max"], x["penalty_seconds"]) for x in r.rows] for r in doc.rules
    }
    assert table == {
        ("missed_waypoint", None): [(None, None, 900)],
        ("missed_waypoint", "WPN"): [(None, None, 3600)],
        ("missed_waypoint", "WPP"): [(None, None, 120)],
        ("speeding", None): [(0, 20, 60), (20, 40, 120), (40, None, 180)],
    }
    assert all(r.values["placeholder"] and r.kind == "event" for r in doc.rules)
    assert doc.row_counts()["penalty_formulas"] == 6


def test_overlaps_gaps_unknown_types_and_negative_values_are_all_listed_with_their_line():
    found = problems(
        """\
        placeholder: true
        formulas:
          - type: speeding
            brackets:
              - {over: 0, up_to: 20, minutes: 1}
              - {over: 15, up_to: 40, minutes: 2}
          - type: speeding
            at: {stage: Stage 2}
            brackets:
              - {over: 0, up_to: 20, minutes: 1}
              - {over: 25, minutes: 2}
          - {type: teleporting, minutes: 5}
          - {type: late_start, seconds: -60}
          - {type: missed_waypoint, waypoint_type: WPX, minutes: 15}
          - {type: dnf, operator: squared, minutes: 60}
        """
    )
    assert found == [
        "rules.yaml:6: formulas[0].brackets[1]: brackets (> 0 ≤ 20) and (> 15) overlap",
        "rules.yaml:11: formulas[1].brackets[1]: gap: offences in (20, 25] have no penalty (over must equal the previous up_to)",
        "rules.yaml:12: formulas[2].type: unknown penalty type 'teleporting' (known: speeding, missed_waypoint, late_start, "
        "late_arrival, early_arrival, max_time_exceeded, dns, dnf)",
        "rules.yaml:13: formulas[3].seconds: must not be negative",
        "rules.yaml:14: formulas[4].waypoint_type: unknown waypoint type 'WPX' (known: DSS, ASS, WPV, WPM, WPE, WPS, WPC, WPN, "
        "WPP, DZ, FZ, CP, TC, DT, FT, SN, FN)",
        "rules.yaml:15: formulas[5].operator: unknown operator 'squared' (known: flat, per_unit)",
    ]


def test_bracket_and_rule_shape_problems():
    found = "\n".join(
        problems(
            """\
            formulas:
              - type: speeding
                minutes: 1
                brackets: [{over: 0, minutes: 1}, {over: 20, up_to: 40, minutes: 2}]
              - type: speeding
                brackets: [{over: 10, up_to: 5, minutes: 1}, {over: 10, seconds: 1, minutes: 1}]
              - {type: missed_waypoint, minutes: 15}
              - {type: missed_waypoint, seconds: 600}
              - {type: speeding, waypoint_type: WPN, minutes: 1, at: {stage: S, segment: 1, waypoint: WP3}}
              - {type: late_arrival}
              - {type: late_arrival, minutes: 0.01, at: {stage: S, waypoint: WP1}}
            maximum_times:
              - {stage: S, segment: 1, max_minutes: 60, target_minutes: 90}
              - {stage: S, segment: 1, max_minutes: 0}
            """
        )
    )
    assert "formulas[0]: a bracket rule gives its penalties in its brackets, not in the rule" in found
    assert "formulas[0].brackets[1]: bracket (> 0) has no upper bound (up_to) but bracket (> 20) follows it" in found
    assert "formulas[1].brackets[0].up_to: up_to 5 must be above over 10" in found
    assert "formulas[1].brackets[1]: give the penalty in seconds or in minutes, not both" in found
    assert "rules.yaml:8: formulas[3]: duplicate rule missed_waypoint" in found
    assert "formulas[4].waypoint_type: waypoint_type is for missed_waypoint rules" in found
    assert "formulas[5]: the penalty is missing: give seconds or minutes" in found
    assert "formulas[6].minutes: 0.01 minutes is not a whole number of seconds" in found
    assert "formulas[6].at: a waypoint or speed zone is named within a segment" in found
    assert "maximum_times[0].target_minutes: target 90 min is above the maximum 60 min" in found
    assert "maximum_times[1].max_minutes: must be positive" in found
    assert "maximum_times[1].segment: duplicate maximum time for (stage, segment)" in found


def test_radius_defaults_are_checked_as_in_a_seed_and_the_event_must_match():
    found = problems(
        """\
        event: another-rally
        radius_defaults:
          - {type: WPM, open: 800, validation: 900}
          - {type: WPM, open: 800, validation: 90}
        """,
        event="rally-albania-2026",
    )
    assert found == [
        "rules.yaml:1: event: this file is for event 'another-rally', not 'rally-albania-2026'",
        "rules.yaml:3: radius_defaults[0].validation: validation radius 900 m is larger than the opening radius 800 m",
        "rules.yaml:4: radius_defaults[1].type: duplicate radius default type in this event 'WPM' "
        "(first at radius_defaults[0].type)",
    ]


def test_load_refuses_a_bad_file_with_every_problem_and_nothing_else(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("formulas:\n  - {type: speeding, minutes: -1}\n  - {type: nope, minutes: 1}\nmaximum: 3\n")
    with pytest.raises(RulesError) as info:
        rules.load(bad)
    text = info.value.render()
    assert "3 problem(s); nothing was written" in text
    assert f"{bad}:2: formulas[0].minutes: must not be negative" in text
    assert f"{bad}:4: maximum: unknown key for a rules_file" in text


def test_a_seed_event_validates_its_rules_file_with_the_seeds_stage_names(tmp_path):
    seed = yaml.safe_load((RULES.parent / "rally-albania-2026.yaml").read_text())
    (tmp_path / "rules.yaml").write_text(
        "formulas:\n  - {type: dnf, minutes: 60, at: {stage: Stage 9}}\n  - {type: dns, minutes: 60, at: {stage: Prologue}}\n"
    )
    seed["events"][0]["rules"] = "rules.yaml"
    seed["events"][0]["stages"] = [{k: v for k, v in s.items() if k != "course"} for s in seed["events"][0]["stages"]]
    with pytest.raises(SeedError) as info:
        document.parse(yaml.safe_dump(seed, sort_keys=False), str(tmp_path / "seed.yaml"))
    text = info.value.render()
    assert f"{tmp_path / 'rules.yaml'}:2: formulas[0].at.stage: unknown stage 'Stage 9'" in text
    assert "Prologue'" not in text.split("unknown stage")[0]
    seed["events"][0]["rules"] = "missing.yaml"
    with pytest.raises(SeedError) as info:
        document.parse(yaml.safe_dump(seed, sort_keys=False), str(tmp_path / "seed.yaml"))
    assert "events[0].rules: rules file" in info.value.render() and "does not exist" in info.value.render()
