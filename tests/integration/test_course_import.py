"""OpenRally GPX import and export through a stack booted from the committed artifacts (the course model).

Each test has its own event (fresh slug) with radius defaults for every type but WPP.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO, admin_env, query, run_cli
from tests.integration.graph import CourseGraph
from trm_directus.course import exchange, remote, segments, synthetic, validate
from trm_directus.course.stage import linestring
from trm_directus.errors import CourseError

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

DATA = REPO / "tests" / "data" / "course"
VALID = DATA / "valid-v1.0.3.gpx"
STAGE = "Test stage Shkodër"
NO_WPP = {t: r for t, r in synthetic.DEFAULTS.items() if t != "WPP"}
TABLES = ("stages", "segments", "waypoints", "speed_limit_zones")


@pytest.fixture
def event(api) -> dict:
    ev = CourseGraph(api).event()
    rows = [
        {"event_id": ev["id"], "waypoint_type": t, "open_radius_m": o, "validation_radius_m": v} for t, (o, v) in NO_WPP.items()
    ]
    api.post("/items/waypoint_radius_defaults", rows)
    return ev


def course_import(stack, *args: str):
    return run_cli("course-import", *args, "--against", stack.url, env=admin_env(stack), timeout=300)


def counts(stack, event) -> dict[str, int]:
    """Rows of the event's course, per table (SQL, behind the API's back)."""
    joins = {
        "stages": "stages st",
        "segments": "segments s JOIN stages st ON st.id = s.stage_id",
        "waypoints": "waypoints w JOIN segments s ON s.id = w.segment_id JOIN stages st ON st.id = s.stage_id",
        "speed_limit_zones": "speed_limit_zones z JOIN segments s ON s.id = z.segment_id JOIN stages st ON st.id = s.stage_id",
    }
    return {
        t: query(stack.info.dsn, f"SELECT count(*) FROM {joins[t]} WHERE st.event_id = %s", (event["id"],))[0][0] for t in TABLES
    }


def waypoint_ids(stack, event) -> dict[str, str]:
    rows = query(
        stack.info.dsn,
        "SELECT w.code, w.id::text FROM waypoints w JOIN segments s ON s.id = w.segment_id JOIN stages st ON st.id = s.stage_id "
        "WHERE st.event_id = %s",
        (event["id"],),
    )
    return dict(rows)


def expected(path=VALID, defaults=NO_WPP):
    stage, parsed = segments.read(path.read_bytes(), path.name)
    validate.resolve(stage, defaults, parsed.problems)
    assert parsed.problems.lines() == []
    return stage


def test_import_reimport_edit_and_export(stack, api, event, tmp_path):
    # 1. a fresh import creates the stage, its segments, waypoints, zones and route
    first = course_import(stack, str(VALID), "--event", event["slug"])
    assert first.returncode == 0, first.stderr
    assert "26 created, 0 updated, 0 deleted" in first.stdout
    assert counts(stack, event) == {"stages": 1, "segments": 5, "waypoints": 18, "speed_limit_zones": 2}
    stage_doc, _ = remote.stage_document(api, event, STAGE)
    assert stage_doc == expected()  # everything as the file says, read back through the API

    # 2. the same file again: no write at all
    ids = waypoint_ids(stack, event)
    revisions = query(stack.info.dsn, "SELECT count(*) FROM directus_revisions")[0][0]
    again = course_import(stack, str(VALID), "--event", event["slug"])
    assert again.returncode == 0, again.stderr
    assert "no changes: Directus already holds this course (7 requests" in again.stdout
    assert query(stack.info.dsn, "SELECT count(*) FROM directus_revisions")[0][0] == revisions

    # 3. an edited file: one WP moved and re-sized, one removed, one added -> updated in place, ids kept
    text = VALID.read_text()
    text = text.replace('<wpt lat="42.050" lon="19.500">', '<wpt lat="42.051" lon="19.501">')
    text = text.replace('<openrally:wpv name="1" open="1000" clear="200"/>', '<openrally:wpv name="1" open="900" clear="150"/>')
    text = re.sub(r'  <wpt lat="42.170".*?</wpt>\n', "", text, flags=re.S)  # WPN 6 gone
    text = text.replace(
        '  <wpt lat="42.178"',
        '  <wpt lat="42.174" lon="19.520">\n    <extensions>\n      <openrally:wpc name="6b" open="1000" clear="90"/>\n'
        '    </extensions>\n  </wpt>\n  <wpt lat="42.178"',
    )
    edited = tmp_path / "edited.gpx"
    edited.write_text(text)
    changed = course_import(stack, str(edited), "--event", event["slug"])
    assert changed.returncode == 0, changed.stderr
    assert "- waypoints Test stage Shkodër / WPN 6" in changed.stdout
    assert "~ waypoints Test stage Shkodër / WPV 1: location, open_radius_m, validation_radius_m" in changed.stdout
    assert "1 created," in changed.stdout and "1 deleted" in changed.stdout
    after = waypoint_ids(stack, event)
    assert set(after) == (set(ids) - {"6"}) | {"6b"}
    assert all(after[code] == ids[code] for code in after if code in ids)  # updated in place
    assert remote.stage_document(api, event, STAGE)[0] == expected(edited)
    assert course_import(stack, str(edited), "--event", event["slug"]).stdout.count("no changes") == 1

    # 4. export, import the export: nothing changes; the export reads back as the same course
    out = tmp_path / "export.gpx"
    exported = run_cli(
        "course-export", "--event", event["slug"], "--stage", STAGE, "--out", str(out),
        "--against", stack.url, env=admin_env(stack),
    )  # fmt: skip
    assert exported.returncode == 0 and "WARNING" not in exported.stderr, exported.stderr
    assert expected(out) == expected(edited)
    assert "no changes" in course_import(stack, str(out), "--event", event["slug"]).stdout


def test_geometry_goes_in_and_comes_out_as_the_same_geojson(stack, api, event):
    assert course_import(stack, str(VALID), "--event", event["slug"]).returncode == 0
    doc = expected()
    stage = api.get("/items/stages", filter={"event_id": {"_eq": event["id"]}}, fields="route")[0]
    assert stage["route"] == linestring(doc.route)
    locations = {w["code"]: w["location"] for w in api.get("/items/waypoints", fields="code,location", limit=-1,
                 filter={"segment_id": {"stage_id": {"event_id": {"_eq": event["id"]}}}})}  # fmt: skip
    assert locations == {w.code: w.location for _, _, w in doc.waypoints()}
    zones = api.get(
        "/items/speed_limit_zones", fields="name,geometry,speed_limit_kmh,starts_at_waypoint_id.code,ends_at_waypoint_id.code",
        filter={"segment_id": {"stage_id": {"event_id": {"_eq": event["id"]}}}}, limit=-1,
    )  # fmt: skip
    got = {z["name"]: (z["geometry"], z["speed_limit_kmh"], z["starts_at_waypoint_id"]["code"], z["ends_at_waypoint_id"]["code"])
           for z in zones}  # fmt: skip
    assert got == {z.name: (z.geojson, z.speed_limit_kmh, z.dz, z.fz) for _, z in doc.zones()}
    # PostGIS holds them as geometry in SRID 4326 (the API's GeoJSON is not a text copy)
    srid = query(
        stack.info.dsn, "SELECT DISTINCT ST_SRID(route), GeometryType(route) FROM stages WHERE event_id = %s", (event["id"],)
    )
    assert srid == [(4326, "LINESTRING")]


BAD = sorted(p.name for p in DATA.glob("bad-*.gpx"))


@pytest.mark.parametrize("name", BAD)
def test_a_bad_file_is_refused_with_its_line_and_nothing_is_written(stack, api, event, name):
    assert course_import(stack, str(VALID), "--event", event["slug"]).returncode == 0  # a course is there already
    before = counts(stack, event)
    result = course_import(stack, str(DATA / name), "--event", event["slug"], "--stage", STAGE)
    assert result.returncode == 1
    assert "FAILED: 1 problem(s) in " in result.stderr and "nothing was written" in result.stderr
    assert re.search(rf"{re.escape(str(DATA / name))}:\d+: ", result.stderr), result.stderr
    assert counts(stack, event) == before


def test_dry_run_writes_nothing_and_lists_every_item(stack, event):
    result = course_import(stack, str(VALID), "--event", event["slug"], "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "(dry run: nothing written)" in result.stdout and "26 would be created" in result.stdout
    assert result.stdout.count("+ waypoints Test stage Shkodër / ") == 18
    assert counts(stack, event) == dict.fromkeys(TABLES, 0)


def test_older_namespace_and_statute_files_import_as_stages(stack, api, event):
    for name in ("valid-v0.2-old-elements.gpx", "valid-statute-v1.0.2.gpx"):
        result = course_import(stack, str(DATA / name), "--event", event["slug"])
        assert result.returncode == 0, result.stderr
    stages = {
        s["name"]: s for s in api.get("/items/stages", filter={"event_id": {"_eq": event["id"]}}, fields="name,sort_order,route")
    }
    assert set(stages) == {"valid-v0.2-old-elements", "Statute stage"}
    assert stages["valid-v0.2-old-elements"]["route"] is None  # no <trk>
    assert sorted(s["sort_order"] for s in stages.values()) == [0, 1]  # appended after the existing stages
    assert remote.stage_document(api, event, "Statute stage")[0] == expected(DATA / "valid-statute-v1.0.2.gpx")


def test_several_files_import_a_multi_stage_rally_in_one_run(stack, api, event, tmp_path):
    paths = synthetic.write_files(tmp_path, stages=3, total_km=600, waypoints=120, seed=11)
    report = exchange.import_files(api, paths, event["slug"])
    assert report.plan.counts()["waypoints"]["create"] == 120 and report.requests <= 12
    assert counts(stack, event)["stages"] == 3
    again = exchange.import_files(api, paths, event["slug"])
    assert again.plan.changes == 0 and again.requests == 7  # event, defaults, 5 GETs: no write


def test_a_failing_write_is_rolled_back_entirely(stack, api, event, tmp_path):
    assert course_import(stack, str(VALID), "--event", event["slug"]).returncode == 0
    before_counts, before_ids = counts(stack, event), waypoint_ids(stack, event)
    # An operator drew a speed zone by hand in the last segment (no DZ waypoint: the import leaves it alone).
    seg = api.get(
        "/items/segments", filter={"stage_id": {"event_id": {"_eq": event["id"]}}, "sort_order": {"_eq": 4}}, fields="id"
    )[0]
    api.post("/items/speed_limit_zones", {"segment_id": seg["id"], "name": "hand-drawn", "speed_limit_kmh": 30,
             "geometry": {"type": "LineString", "coordinates": [[19.5, 42.19], [19.5, 42.2]]}})  # fmt: skip
    # A file whose special stage now runs to the end (no last liaison): the plan deletes segment 4
    # last, after the other writes; Directus refuses (the zone references it), the run is undone.
    text = VALID.read_text().replace("<openrally:ass/>", '<openrally:wpe name="8" open="1000" clear="90"/>')
    text = text.replace("<openrally:ft/>", "<openrally:ass/>")
    text = text.replace('<openrally:wpv name="1" open="1000" clear="200"/>', '<openrally:wpv name="1" open="999" clear="200"/>')
    edited = tmp_path / "no-last-liaison.gpx"
    edited.write_text(text)
    with pytest.raises(CourseError) as info:
        exchange.import_files(api, [edited], event["slug"])
    assert "course import failed at delete 1 segments" in info.value.what
    assert re.search(r"rolled back: \d+ created row\(s\) deleted, [1-9]\d* updated row\(s\) restored", info.value.hint)
    assert counts(stack, event) == {**before_counts, "speed_limit_zones": before_counts["speed_limit_zones"] + 1}
    assert waypoint_ids(stack, event) == before_ids
    of_event = {"segment_id": {"stage_id": {"event_id": {"_eq": event["id"]}}}}
    wpv = api.get("/items/waypoints", filter={"code": {"_eq": "1"}, **of_event}, fields="open_radius_m")
    assert wpv == [{"open_radius_m": 1000}]
