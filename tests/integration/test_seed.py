"""The Rally Albania 2026 seed through the REST API of a stack booted from the committed artifacts."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO, admin_env, query, run_cli
from trm_directus.errors import SeedError
from trm_directus.seed import loader, verify
from trm_directus.seed import seed_file as document

pytestmark = [pytest.mark.integration, pytest.mark.directus]

RALLY = REPO / "seeds" / "rally-albania-2026.yaml"
EXPECTED = {
    "organizations": 1,
    "directus_users": 11,
    "vehicles": 4,
    "devices": 8,
    "organization_users": 11,
    "organization_vehicles": 4,
    "organization_devices": 8,
    "events": 1,
    "classes": 18,
    "entries": 4,
    "entry_crew": 6,
    "entry_devices": 6,
    # the course: defaults per waypoint type, 7 stages, and what their GPX files hold
    "waypoint_radius_defaults": 17,
    "stages": 7,
    "segments": 21,
    "waypoints": 102,
    "speed_limit_zones": 9,
    # the event's rules (rally-albania-2026-rules.yaml): 3 flat rules and 3 speeding brackets
    "penalty_formulas": 6,
}
TOTAL = sum(EXPECTED.values())


def elsewhere(text: str) -> str:
    """The seed's text for a copy outside seeds/: course and rules files are relative to the seed file."""
    text = text.replace("rules: rally-albania-2026-rules.yaml", f"rules: {RALLY.parent}/rally-albania-2026-rules.yaml")
    return text.replace("course: rally-albania-2026/", f"course: {RALLY.parent}/rally-albania-2026/")


TABLES = [t for t in EXPECTED if t != "directus_users"]


def row_counts(stack) -> dict[str, int]:
    counts = {t: query(stack.info.dsn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    counts["directus_users"] = query(
        stack.info.dsn, "SELECT count(*) FROM directus_users WHERE email LIKE '%@example.com' AND email <> 'admin@example.com'"
    )[0][0]
    return counts


def seed_cli(stack, *args: str):
    return run_cli("seed", *args, "--against", stack.url, env=admin_env(stack))


def test_seed_then_reseed_then_edit(stack, api, tmp_path):
    # 1. fresh stack: everything is created, with the expected counts and relations
    first = seed_cli(stack)
    assert first.returncode == 0, first.stderr
    assert str(TOTAL) in first.stdout.splitlines()[-2] and f"{TOTAL} created, 0 updated" in first.stdout
    assert row_counts(stack) == EXPECTED
    event = api.get(
        "/items/events",
        filter={"slug": {"_eq": "rally-albania-2026"}},
        fields="id,name,organization_id.slug,classes.code,entries.race_number",
    )[0]
    assert event["organization_id"]["slug"] == "msc-albania" and len(event["classes"]) == 18
    lc = api.get(
        "/items/entries",
        filter={"race_number": {"_eq": 301}, "event_id": {"_eq": event["id"]}},
        fields="class_id.code,vehicle_id.plate,vehicle_id.cc,crew.role,crew.user_id.email,"
        "devices.purpose,devices.device_id.model,devices.assigned_user_id.email",
    )[0]
    assert lc["class_id"]["code"] == "C-2" and lc["vehicle_id"] == {"plate": "AA-001-AA", "cc": 4500}
    assert {c["role"] for c in lc["crew"]} == {"pilot", "co-pilot"}
    panic = next(d for d in lc["devices"] if d["purpose"] == "panic-button")
    assert panic["device_id"]["model"] == "Teltonika FMB003"
    assert panic["assigned_user_id"]["email"] == "paul.pilot@example.com"
    # Every entry's class, vehicle, crew and devices as in the file (caught created rows mapped by
    # response order: Directus returns a batch in database order).
    assert verify.check_relations(api, document.load(RALLY)) == []

    # 2. second run: zero changes, and it says so
    again = seed_cli(stack)
    assert again.returncode == 0
    # one GET per collection (14), the course import's reads of the event, defaults and course (12),
    # and the event's rules (1: its formulas)
    assert "no changes: the database already holds this seed (27 requests" in again.stdout
    assert row_counts(stack) == EXPECTED

    # 3. an edited value: exactly one update
    edited = tmp_path / "edited.yaml"
    text = RALLY.read_text().replace("name: Moto Veteran", "name: Moto Veteran (45+)")
    edited.write_text(elsewhere(text))
    changed = seed_cli(stack, str(edited))
    assert changed.returncode == 0, changed.stderr
    assert "0 created, 1 updated" in changed.stdout
    assert any(ln.split()[:3] == ["classes", "0", "1"] for ln in changed.stdout.splitlines())
    assert api.get("/items/classes", filter={"code": {"_eq": "M-7"}}, fields="name")[0]["name"] == "Moto Veteran (45+)"
    assert row_counts(stack) == EXPECTED


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("vehicle: AL-Q-0101", "vehicle: NO-SUCH-PLATE", "unknown vehicle 'NO-SUCH-PLATE'"),
        ("race_number: 401", "race_number: 301", "duplicate race number in this event 301"),
        ("discipline: rally", "discipline: motocross", "events[0].discipline: must be one of rally"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(stack, tmp_path, old, new, reason):
    before = row_counts(stack)
    bad = tmp_path / "bad.yaml"
    bad.write_text(elsewhere(RALLY.read_text().replace(old, new, 1)))
    result = seed_cli(stack, str(bad))
    assert result.returncode == 1
    assert f"FAILED: {bad}: " in result.stderr and "nothing was written" in result.stderr and reason in result.stderr
    line = next(i for i, ln in enumerate(RALLY.read_text().splitlines(), 1) if old in ln)  # the edited line
    assert f"{bad}:{line}: " in result.stderr and "1 problem(s)" in result.stderr
    assert row_counts(stack) == before


def test_a_failure_after_validation_rolls_back_what_the_run_wrote(stack, api):
    before = row_counts(stack)
    doc = yaml.safe_load(RALLY.read_text())
    doc["organizations"][0]["slug"] = "rollback-org"
    doc["events"][0]["organization"] = "rollback-org"
    doc["events"][0]["slug"] = "rollback-rally"
    del doc["events"][0]["rules"]  # the rules file names its event (rally-albania-2026): not this renamed copy
    doc = document.parse(yaml.safe_dump(doc, sort_keys=False), str(RALLY.parent / "rollback.yaml"))
    # Valid for the file, refused by Directus: a class code beyond the field's 10 characters.
    doc["events"][0]["classes"][0]["code"] = "M-1" + "X" * 20
    with pytest.raises(SeedError) as info:
        loader.load(api, doc)
    assert "seeding failed at classes" in info.value.what
    assert re.search(r"rolled back: [1-9][0-9]* created row\(s\) deleted", info.value.hint)
    assert row_counts(stack) == before
    assert not api.get("/items/organizations", filter={"slug": {"_eq": "rollback-org"}})
