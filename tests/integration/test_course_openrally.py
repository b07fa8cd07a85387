"""Course files the official OpenRally schema accepts, through Directus (xmllint on the vendored
openrally.xsd v1.0.3): every seeded stage's export, the standard's own example with its points
spread out, and a stage with a refuel neutralization and a transfer start beside the finish."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, admin_env, execute, query, run_cli
from tests.integration.test_course_import import counts, course_import, waypoint_ids
from tests.openrally import spread_example
from trm_directus.course import openrally_schema, synthetic

pytestmark = [
    pytest.mark.integration,
    pytest.mark.directus,
    pytest.mark.skipif(openrally_schema.unavailable() is not None, reason=f"{openrally_schema.unavailable()}"),
]

REALISTIC = REPO / "tests" / "data" / "course" / "valid-refuel-and-transfer-v1.0.3.gpx"


@pytest.fixture
def event(api) -> dict:
    """A fresh event with a radius default for every waypoint type."""
    from tests.integration.graph import CourseGraph

    graph = CourseGraph(api)
    ev = graph.event()
    for t, (o, v) in synthetic.DEFAULTS.items():
        graph.radius_default(ev, t, o, v)
    return ev


def export(stack, event_slug: str, stage: str, out) -> openrally_schema.Verdict:
    """`course-export` to `out` (no warning: nothing lost) and xmllint's verdict on the file."""
    result = run_cli(
        "course-export", "--event", event_slug, "--stage", stage, "--out", str(out),
        "--against", stack.url, env=admin_env(stack),
    )  # fmt: skip
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    verdict = openrally_schema.check(out)
    print(f"xmllint: {verdict.output}")
    return verdict


def test_every_seeded_stage_exports_to_a_valid_file_that_reimports_as_no_change(stack, api, tmp_path):
    seeded = run_cli("seed", "--against", stack.url, env=admin_env(stack), timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    for path in sorted((REPO / "seeds" / "rally-albania-2026").glob("*.gpx")):
        verdict = openrally_schema.check(path)
        print(f"xmllint: {verdict.output}")
        assert verdict.valid, verdict.output
    stages = api.get(
        "/items/stages", filter={"event_id": {"slug": {"_eq": "rally-albania-2026"}}}, fields="name", sort="sort_order", limit=-1
    )
    assert len(stages) == 7
    files = []
    for i, stage in enumerate(stages):
        files.append(tmp_path / f"export-{i}.gpx")
        verdict = export(stack, "rally-albania-2026", stage["name"], files[-1])
        assert verdict.valid, verdict.output
    again = course_import(stack, *map(str, files), "--event", "rally-albania-2026")
    print(again.stdout.splitlines()[-1])
    assert again.returncode == 0 and "no changes: Directus already holds this course" in again.stdout, again.stderr


def test_the_standards_example_spread_out_imports_exports_valid_and_reimports_as_no_change(stack, event, tmp_path):
    spread = tmp_path / "example-spread.gpx"
    spread.write_text(spread_example())
    first = course_import(stack, str(spread), "--event", event["slug"])
    print(first.stdout)
    assert first.returncode == 0, first.stderr
    assert "0 updated, 0 deleted" in first.stdout and counts(stack, event)["waypoints"] == 28
    out = tmp_path / "example-export.gpx"
    verdict = export(stack, event["slug"], "example-spread", out)
    assert verdict.valid, verdict.output
    again = course_import(stack, str(out), "--event", event["slug"])
    print(again.stdout.splitlines()[-1])
    assert again.returncode == 0 and "no changes: Directus already holds this course" in again.stdout, again.stderr


def test_a_refuel_neutralization_and_a_transfer_start_beside_the_finish_import_and_reimport(stack, event, tmp_path):
    first = course_import(stack, str(REALISTIC), "--event", event["slug"])
    assert first.returncode == 0, first.stderr
    assert counts(stack, event) == {"stages": 1, "segments": 5, "waypoints": 13, "speed_limit_zones": 1}
    of_event = (
        "FROM waypoints w JOIN segments s ON s.id = w.segment_id JOIN stages st ON st.id = s.stage_id WHERE st.event_id = %s"
    )
    time_controls = f"SELECT w.code, w.type {of_event} AND w.type IN ('TC', 'DT', 'FT', 'SN', 'FN')"
    types = dict(query(stack.info.dsn, time_controls, (event["id"],)))
    assert types == {"CH5": "TC", "N5": "SN", "FN5": "FN", "CH6": "TC", "DT5": "DT", "FT5": "FT"}
    assert "no changes" in course_import(stack, str(REALISTIC), "--event", event["slug"]).stdout
    # a course imported before the time controls had their own types (every one a TC) is updated in place
    ids = waypoint_ids(stack, event)
    old_types = f"UPDATE waypoints SET type = 'TC' WHERE type IN ('DT', 'FT', 'SN', 'FN') AND id IN (SELECT w.id {of_event})"
    assert execute(stack.info.dsn, old_types, (event["id"],)) == 4
    upgraded = course_import(stack, str(REALISTIC), "--event", event["slug"])
    assert upgraded.returncode == 0 and "0 created, 4 updated, 0 deleted" in upgraded.stdout, upgraded.stdout
    assert waypoint_ids(stack, event) == ids
    verdict = export(stack, event["slug"], "Test stage Përmet", tmp_path / "export.gpx")
    assert verdict.valid, verdict.output
    assert "no changes" in course_import(stack, str(tmp_path / "export.gpx"), "--event", event["slug"]).stdout
