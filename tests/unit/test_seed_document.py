"""Seed file validation: every problem named with file, line, path and reason, before anything is written."""

import copy
from pathlib import Path

import pytest
import yaml

from trm_directus.errors import SeedError
from trm_directus.seed import seed_file as document
from trm_directus.seed import synthetic

RALLY = "seeds/rally-albania-2026.yaml"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"  # course files are relative to the seed file


@pytest.fixture
def rally(repo) -> dict:
    return yaml.safe_load((repo / RALLY).read_text())


def problems_of(doc: dict) -> str:
    with pytest.raises(SeedError) as info:
        document.parse(yaml.safe_dump(doc, sort_keys=False), str(SEEDS / "seed.yaml"))
    assert "nothing was written" in info.value.what
    return info.value.render()


def test_the_rally_albania_seed_is_valid_and_complete(repo):
    doc = document.load(repo / RALLY)
    event = doc["events"][0]
    assert event["slug"] == "rally-albania-2026" and event["discipline"] == "rally"
    assert len(event["classes"]) == 18 and len({c["code"] for c in event["classes"]}) == 18
    roles = {m["role"] for m in doc["organizations"][0]["members"]}
    assert roles == {"org-admin", "race-director", "marshal", "timekeeper", "participant", "viewer"}
    assert all(u["email"].endswith("@example.com") for u in doc["users"])
    lc = next(e for e in event["entries"] if e["race_number"] == 301)
    assert lc["class"] == "C-2" and lc["vehicle"] == "AA-001-AA"
    assert {d["purpose"] for d in lc["devices"]} == {"chassis", "backup", "panic-button"}
    panic = next(d for d in lc["devices"] if d["purpose"] == "panic-button")
    pilot = next(c["user"] for c in lc["crew"] if c["role"] == "pilot")
    assert panic["assigned_to"] == pilot
    categories = {e["class"][0] for e in event["entries"]}
    assert categories == {"M", "Q", "C", "S"}  # moto, quad, car, SSV


def test_a_dangling_reference_is_named_with_its_line_and_path(repo):
    text = (repo / RALLY).read_text().replace("vehicle: AA-001-AA", "vehicle: ZZ-999-ZZ")
    with pytest.raises(SeedError) as info:
        document.parse(text, "rally.yaml")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "ZZ-999-ZZ" in ln)
    assert f"rally.yaml:{line}: events[0].entries[2].vehicle: unknown vehicle 'ZZ-999-ZZ'" in info.value.render()


def test_duplicate_race_number_is_refused(rally):
    rally["events"][0]["entries"][1]["race_number"] = 1
    assert "events[0].entries[1].race_number: duplicate race number in this event 1" in problems_of(rally)


def test_bad_enum_values_are_refused_with_the_allowed_values(rally):
    rally["events"][0]["entries"][2]["crew"][0]["role"] = "driver"
    rally["organizations"][0]["members"][0]["role"] = "boss"
    text = problems_of(rally)
    assert "events[0].entries[2].crew[0].role: must be one of pilot, co-pilot" in text
    assert "organizations[0].members[0].role: must be one of org-admin" in text


def test_formats_cross_field_rules_and_unknown_keys(rally):
    bad = copy.deepcopy(rally)
    bad["devices"][0]["imei"] = "352094101588133"  # wrong check digit
    bad["users"][0]["nationality"] = "ALB"
    bad["events"][0]["ends_at"] = "2026-06-01T00:00:00+02:00"
    bad["events"][0]["entries"][2]["devices"][2]["assigned_to"] = "ada.admin@example.com"
    bad["vehicles"][0]["colour"] = "white"
    text = problems_of(bad)
    assert "devices[0].imei: IMEI 352094101588133 fails its check digit (Luhn)" in text
    assert "users[0].nationality: nationality is ISO 3166-1 alpha-2" in text
    assert "events[0].ends_at: ends_at must be after starts_at" in text
    assert "assigned_to: 'ada.admin@example.com' is not in this entry's crew" in text
    assert "vehicles[0].colour: unknown key for a vehicle" in text
    # 5 mistakes, and the two references to the renamed IMEI that no longer resolve
    assert "7 problem(s)" in text and "unknown device '352094101588132'" in text


def test_missing_file_and_broken_yaml_are_clear(tmp_path):
    with pytest.raises(SeedError, match="does not exist"):
        document.load(tmp_path / "nope.yaml")
    (tmp_path / "broken.yaml").write_text("events:\n  - slug: [unclosed\n")
    with pytest.raises(SeedError, match=r"broken\.yaml:\d+: not valid YAML"):
        document.load(tmp_path / "broken.yaml")


def test_the_synthetic_event_is_valid_at_any_size():
    doc = synthetic.event(entries=200)
    document.parse(yaml.safe_dump(doc, sort_keys=False), "synthetic")
    assert len(doc["events"][0]["entries"]) == 200
    assert len({d["imei"] for d in doc["devices"]}) == 200


def test_course_problems_are_listed_with_their_lines(rally):
    bad = copy.deepcopy(rally)
    event = bad["events"][0]
    event["radius_defaults"][0]["validation"] = 5000
    xyz = len(event["radius_defaults"])
    event["radius_defaults"].append({"type": "XYZ", "open": 800, "validation": 90})
    event["radius_defaults"].append({"type": "WPM", "open": 800, "validation": 90})
    event["stages"][1]["name"] = "Prologue"
    event["stages"][2]["start_order_input_stage"] = "Stage 9"
    event["stages"][3]["course"] = "rally-albania-2026/missing.gpx"
    event["stages"][4]["start_order_strategy"] = "random"
    text = problems_of(bad)
    assert "events[0].radius_defaults[0].validation: validation radius 5000 m is larger than the opening radius 1000 m" in text
    assert f"events[0].radius_defaults[{xyz}].type: must be one of DSS" in text
    assert "duplicate radius default type in this event 'WPM'" in text
    assert "duplicate stage name in this event 'Prologue'" in text
    assert "events[0].stages[2].start_order_input_stage: 'Stage 9' is not another stage of this event" in text
    assert "missing.gpx does not exist (paths are relative to the seed file)" in text
    assert "events[0].stages[4].start_order_strategy: must be one of manual" in text
    # 7 mistakes, stage 1 (renamed Prologue) now takes its start order from itself, and the 6 course
    # files found refuse the DSS default of 5000 m (3 of them twice: it overlaps their next waypoint)
    assert ": 17 problem(s)" in text and "stages[1].start_order_input_stage: 'Prologue' is not another stage" in text


def test_stages_load_after_the_stage_they_take_their_start_order_from():
    from trm_directus.seed import stages as course

    stages = [{"name": "C", "start_order_input_stage": "B"}, {"name": "B", "start_order_input_stage": "A"}, {"name": "A"}]
    assert [[s["name"] for s in level] for level in course.dependency_levels(stages)] == [["A"], ["B"], ["C"]]


def test_a_bad_course_file_is_reported_through_the_seed_with_its_own_line(rally):
    bad = copy.deepcopy(rally)
    bad["events"][0]["stages"][5]["course"] = "../tests/data/course/bad-dz-without-speed.gpx"
    text = problems_of(bad)
    assert "events[0].stages[5].course:" in text and "bad-dz-without-speed.gpx:" in text and "speed" in text
    assert "1 problem(s)" in text
