"""OpenRally GPX reading: elements of every version, units, segments and speed zones (no services)."""

from __future__ import annotations

import pytest

from trm_directus.course import segments, synthetic, validate
from trm_directus.course.gpx import NAMESPACES, OPENRALLY_BASE, TYPES
from trm_directus.course.stage import DELIMITERS, VALIDATED_IN_SEQUENCE, Stage
from trm_directus.model import course as course_model

DATA = "tests/data/course"


def read(repo, name: str, defaults=synthetic.DEFAULTS, stage_name: str | None = None) -> tuple[Stage, list[str]]:
    stage, parsed = segments.read((repo / DATA / name).read_bytes(), name, stage_name)
    if parsed.readable:
        validate.resolve(stage, defaults, parsed.problems)
    return stage, parsed.problems.lines()


def layout(stage: Stage) -> list[tuple[str, list[str]]]:
    return [(s.type, [w.code for w in s.waypoints]) for s in stage.segments]


def test_every_openrally_namespace_version_is_accepted():
    assert {ns.removeprefix(OPENRALLY_BASE) for ns in NAMESPACES} == {
        "v0.1", "v0.2", "v0.3", "v1.0", "v1.0.0", "v1.0.1", "v1.0.2", "v1.0.3",
    }  # fmt: skip


def test_a_v1_0_3_stage_becomes_liaison_special_neutralization_special_liaison(repo):
    stage, problems = read(repo, "valid-v1.0.3.gpx")
    assert problems == []
    assert stage.name == "Test stage Shkodër"
    assert layout(stage) == [
        ("liaison", ["TC1", "DZ1", "FZ1", "1"]),
        ("special-stage", ["DSS1", "2"]),
        ("neutralization", ["TC2", "DZ2", "FZ2", "TC3"]),
        ("special-stage", ["3", "4", "5", "6", "CP A", "ASS1"]),
        ("liaison", ["7", "TC4"]),
    ]
    # timecontrol allowed=45 (minutes) and neutralization 900 (seconds) are the segments' target times
    assert [s.target_duration_seconds for s in stage.segments] == [2700, None, 900, None, None]
    wps = {w.code: w for _, _, w in stage.waypoints()}
    # dt (+ its timecontrol), neutralization, fn, ft: time controls of their own types, codes TC1 … TC4
    assert [wps[c].type for c in ("TC1", "TC2", "TC3", "TC4")] == ["DT", "SN", "FN", "FT"]
    assert (wps["1"].type, wps["1"].cap, wps["1"].distance_km) == ("WPV", 180, 5.56)
    assert (wps["3"].cap, wps["3"].danger) == (0, 3)  # cap 360 is north, stored as 0
    assert (wps["CP A"].type, wps["CP A"].open_radius_m, wps["CP A"].validation_radius_m) == ("CP", 500, 100)
    assert (wps["2"].open_radius_m, wps["2"].validation_radius_m) == synthetic.DEFAULTS["WPM"]  # no radii: the default
    assert (wps["1"].lon, wps["1"].lat) == (19.5, 42.05)
    assert len(stage.route) == 15 and stage.route[0] == (19.5, 42.0)


def test_speed_zones_pair_dz_with_fz_and_follow_the_route(repo):
    stage, _ = read(repo, "valid-v1.0.3.gpx")
    zones = [(s, z.name, z.speed_limit_kmh) for s, z in stage.zones()]
    assert zones == [(0, "DZ1 → FZ1", 50), (2, "DZ2 → FZ2", 40)]  # 40 from the text of <openrally:dz>
    first = stage.segments[0].zones[0]
    # from the DZ along the track (its point between the two) to the FZ
    assert first.geometry == ((19.5, 42.02), (19.501, 42.025), (19.5, 42.03))
    assert stage.segments[2].zones[0].geometry == ((19.5, 42.1), (19.502, 42.107), (19.5, 42.115))


def test_roadbook_only_points_are_skipped(repo):
    _, parsed = segments.read((repo / DATA / "valid-v1.0.3.gpx").read_bytes(), "x")
    assert parsed.skipped == 1 and len(parsed.points) == 16


def test_old_v0_2_element_names_map_to_the_same_types(repo):
    stage, problems = read(repo, "valid-v0.2-old-elements.gpx")
    assert problems == []
    assert stage.name == "valid-v0.2-old-elements"  # no name in the file: the file name
    assert layout(stage) == [("special-stage", ["DSS1", "DZ1", "FZ1", "WPM1", "WPS1", "WPE1", "CP1", "TC1", "ASS1"])]
    wps = {w.code: w for _, _, w in stage.waypoints()}
    assert (wps["WPM1"].danger, wps["WPM1"].open_radius_m, wps["WPM1"].validation_radius_m) == (2, 800, 20)
    zone = stage.segments[0].zones[0]
    assert zone.speed_limit_kmh == 65 and zone.geometry == ((19.8, 41.31), (19.8, 41.32))  # no track: straight line
    assert stage.route is None


def test_statute_units_are_converted_to_km_kmh_and_metres(repo):
    stage, problems = read(repo, "valid-statute-v1.0.2.gpx")
    assert problems == []
    wps = {w.code: w for _, _, w in stage.waypoints()}
    assert wps["12"].distance_km == 16.093  # 10 miles
    assert (wps["12"].open_radius_m, wps["12"].validation_radius_m) == (800, 90)  # 875 and 98 yards
    assert (wps["DSS1"].open_radius_m, wps["DSS1"].validation_radius_m) == (1000, 200)  # 1094 and 219 yards
    assert stage.segments[0].zones[0].speed_limit_kmh == 50  # 31 mph


def test_stage_option_names_the_stage(repo):
    stage, _ = read(repo, "valid-v1.0.3.gpx", stage_name="Stage 3")
    assert stage.name == "Stage 3"


def test_the_synthetic_rally_has_seven_stages_2000_km_and_about_400_waypoints():
    from trm_directus.course import geo

    rally = synthetic.rally()
    assert len(rally) == 7
    assert 380 <= sum(s.counts()["waypoints"] for s in rally) <= 420
    assert 1800 <= sum(geo.length_km(s.route) for s in rally) <= 2200
    types = {w.type for s in rally for _, _, w in s.waypoints()}
    assert types == set(course_model.WAYPOINT_TYPES)
    assert synthetic.rally() == rally  # deterministic


@pytest.mark.parametrize("units", ["statute", "statue"])
def test_both_spellings_of_statute_are_read(units):
    text = (
        f'<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:o="{OPENRALLY_BASE}v1.0.3" version="1.1">'
        f"<metadata><extensions><o:units>{units}</o:units></extensions></metadata>"
        '<wpt lat="41" lon="20"><extensions><o:distance>1</o:distance><o:wpm open="100" clear="10"/></extensions></wpt></gpx>'
    )
    stage, parsed = segments.read(text.encode(), "x")
    wp = stage.segments[0].waypoints[0]
    assert parsed.units == "statute" and wp.distance_km == 1.609 and (wp.open_radius_m, wp.validation_radius_m) == (91, 9)


def test_every_waypoint_type_is_read_from_an_element_and_either_validated_or_a_delimiter():
    assert set(TYPES.values()) == set(course_model.WAYPOINT_TYPES)
    assert set(course_model.WAYPOINT_TYPES) == VALIDATED_IN_SEQUENCE | DELIMITERS
    assert not VALIDATED_IN_SEQUENCE & DELIMITERS


def wpts(*points: str) -> bytes:
    head = f'<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:o="{OPENRALLY_BASE}v1.0.3" version="1.1">'
    body = "\n".join(f'<wpt lat="{41 + i / 100}" lon="20">{p}</wpt>' for i, p in enumerate(points))
    return f"{head}\n{body}\n</gpx>".encode()


def test_a_timecontrol_beside_a_dt_or_neutralization_is_that_markers_time_control():
    stage, parsed = segments.read(
        wpts(
            "<extensions><o:dt/><o:timecontrol allowed='30'/></extensions>",
            "<extensions><o:ft/><o:timecontrol/></extensions>",
            "<extensions><o:neutralization>600</o:neutralization><o:timecontrol/></extensions>",
            "<extensions><o:fn/><o:timecontrol allowed='20'/></extensions>",  # allowed: opens the next segment
        ),
        "t.gpx",
    )
    assert parsed.problems.lines() == []
    assert [(s.type, [(w.code, w.type) for w in s.waypoints], s.target_duration_seconds) for s in stage.segments] == [
        ("liaison", [("TC1", "DT"), ("TC2", "FT")], 1800),
        ("neutralization", [("TC3", "SN"), ("TC4", "FN")], 600),
        ("liaison", [("TC5", "TC")], 1200),
    ]


def test_a_timecontrol_or_neutralization_is_named_by_its_wpt_name():
    stage, parsed = segments.read(
        wpts(
            "<name>CH1</name><extensions><o:timecontrol allowed='60'/></extensions>",
            "<name>N1</name><extensions><o:neutralization>900</o:neutralization><o:fuel/></extensions>",
            "<name>FN1</name><extensions><o:fn/></extensions>",  # fn has a name attribute: the <name> is a label
            "<name>CH1</name><extensions><o:timecontrol/></extensions>",  # already used: a generated code
            "<name>A time control with a very long label</name><extensions><o:timecontrol/></extensions>",
            "<name>X</name><extensions><o:timecontrol name='CH9'/></extensions>",  # an attribute (older files) wins
        ),
        "n.gpx",
    )
    assert parsed.problems.lines() == []
    assert [(w.code, w.type) for _, _, w in stage.waypoints()] == [
        ("CH1", "TC"), ("N1", "SN"), ("TC3", "FN"), ("TC4", "TC"), ("TC5", "TC"), ("CH9", "TC"),
    ]  # fmt: skip
