"""Bad course files: every problem listed with its line, before anything could be written (no services)."""

from __future__ import annotations

import pytest

from trm_directus.course import exchange, segments, synthetic, validate
from trm_directus.errors import CourseError

DATA = "tests/data/course"
NO_WPP = {t: r for t, r in synthetic.DEFAULTS.items() if t != "WPP"}  # the event of these tests has no WPP default
REALISTIC = "valid-refuel-and-transfer-v1.0.3.gpx"


def problems_of(repo, name: str) -> list[str]:
    stage, parsed = segments.read((repo / DATA / name).read_bytes(), name)
    if parsed.readable:
        validate.resolve(stage, NO_WPP, parsed.problems)
    return parsed.problems.lines()


def line_of(repo, name: str, needle: str) -> int:
    return next(i for i, ln in enumerate((repo / DATA / name).read_text().splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("name", "needle", "reason"),
    [
        ("bad-not-xml.gpx", "</gpx>", "not a GPX file: not well-formed XML: mismatched tag"),
        ("bad-not-gpx.gpx", "<kml", "not a GPX file: the root element is <kml>"),
        ("bad-entity-expansion.gpx", "<!DOCTYPE", "a document type declaration (DOCTYPE) is not allowed"),
        ("bad-unknown-namespace.gpx", "<openrally:dss", "unknown OpenRally namespace 'http://www.openrally.org/xmlschemas/GpxExtensions/v2.0'"),
        ("bad-dz-without-speed.gpx", "<openrally:dz", "DZ DZ1 has no speed limit"),
        ("bad-dz-without-fz.gpx", "<openrally:dz", "DZ DZ1 has no FZ after it in its segment"),
        ("bad-fz-without-dz.gpx", "<openrally:fz", "FZ FZ1 has no DZ before it in its segment"),
        ("bad-overlapping-radii.gpx", "<openrally:wpm",
         "validation radii overlap: DSS DSS1 (line 10, 200 m) and WPM 1 (90 m) are 250 m apart, less than 290 m"),
        ("bad-coordinates-out-of-range.gpx", 'lat="91.000"', "<wpt> lat must be between -90 and 90 (got 91.000)"),
        ("bad-radii-missing.gpx", "<openrally:wpp", "WPP 1: no open and no clear radius in the file and no default for WPP"),
    ],
)  # fmt: skip
def test_each_bad_file_has_exactly_its_problem_at_its_line(repo, name, needle, reason):
    problems = problems_of(repo, name)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{name}:{line_of(repo, name, needle)}: ") and reason in problems[0]


def test_the_valid_files_have_no_problem(repo):
    for name in ("valid-v1.0.3.gpx", "valid-v0.2-old-elements.gpx", "valid-statute-v1.0.2.gpx", REALISTIC):
        assert problems_of(repo, name) == []


def test_markers_that_only_delimit_a_zone_or_a_control_are_not_checked_for_overlap(repo):
    # SN + fuel and FN 100 m apart; ASS + TC and the DT 200 m after it: radii of 50–200 m each
    stage, _ = segments.read((repo / DATA / REALISTIC).read_bytes(), REALISTIC)
    problems = validate.Problems("x")
    validate.resolve(stage, {**NO_WPP, "SN": (1000, 200), "FN": (1000, 200), "DT": (1000, 200)}, problems)
    assert problems.lines() == []
    layout = [(s.type, [(w.code, w.type) for w in s.waypoints]) for s in stage.segments]
    assert layout[2:] == [
        ("neutralization", [("N5", "SN"), ("FN5", "FN")]),
        ("special-stage", [("2", "WPM"), ("DZ1", "DZ"), ("FZ1", "FZ"), ("3", "WPS"), ("CH6", "TC"), ("ASS5", "ASS")]),
        ("liaison", [("DT5", "DT"), ("FT5", "FT")]),
    ]


def test_waypoints_validated_in_sequence_are_compared_across_the_markers_between_them():
    points = [("wpm", 41.0), ("dz", 41.0005), ("fn", 41.001), ("wps", 41.0015), ("fz", 41.01)]  # WPM, WPS 167 m apart
    wpts = (f'<wpt lat="{lat}" lon="20"><extensions><o:{el}/><o:speed>50</o:speed></extensions></wpt>' for el, lat in points)
    text = (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:o="http://www.openrally.org/xmlschemas/GpxExtensions/v1.0.3" '
        'version="1.1">\n' + "\n".join(wpts) + "\n</gpx>"
    )
    stage, parsed = segments.read(text.encode(), "o.gpx")
    validate.resolve(stage, NO_WPP, parsed.problems)
    overlaps = [p for p in parsed.problems.lines() if "overlap" in p]
    assert overlaps == [
        "o.gpx:5: validation radii overlap: WPM WPM1 (line 2, 90 m) and WPS WPS1 (90 m) are 167 m apart, less than 180 m"
    ]


def test_every_problem_of_a_file_is_listed_not_just_the_first(repo, tmp_path):
    text = (repo / DATA / "valid-v1.0.3.gpx").read_text()
    text = text.replace("<openrally:speed>50</openrally:speed>", "")  # DZ1 without speed
    text = text.replace('<openrally:wpv name="1" open="1000" clear="200"/>', '<openrally:wpv name="1" open="100" clear="200"/>')
    text = text.replace('<wpt lat="42.145" lon="19.500">', '<wpt lat="42.145" lon="190.5">')
    text = text.replace('<openrally:wpn name="6"', '<openrally:wpn name="5"')  # a duplicate WP number
    bad = tmp_path / "many.gpx"
    bad.write_text(text)
    with pytest.raises(CourseError) as info:
        exchange.read_files([bad], None, synthetic.DEFAULTS, "test-event")
    assert "4 problem(s)" in info.value.what and "nothing was written" in info.value.what
    details = info.value.details
    assert "DZ DZ1 has no speed limit" in details
    assert "WPV 1: validation radius 200 m (clear) exceeds the opening radius 100 m (open)" in details
    assert "<wpt> lon must be between -180 and 180 (got 190.5)" in details
    assert "waypoint name '5' is used twice in the stage" in details
    lines = [int(ln.split(":")[1]) for ln in details.splitlines()]
    assert lines == sorted(lines)


def test_structure_problems_are_named(tmp_path):
    base = (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:o="http://www.openrally.org/xmlschemas/GpxExtensions/v1.0" version="1.1">'
    )

    def wpt(lat: float, el: str) -> str:
        return f'<wpt lat="{lat}" lon="20"><extensions><o:{el} open="100" clear="10"/></extensions></wpt>'

    text = base + "\n" + "\n".join([wpt(41, "dss"), wpt(41.1, "dss"), wpt(41.2, "fn"), wpt(41.3, "wpm")]) + "\n</gpx>"
    _, parsed = segments.read(text.encode(), "s.gpx")
    problems = "\n".join(parsed.problems.lines())
    assert "s.gpx:3: <openrally:dss> opens a special stage inside the one opened at line 2 (missing ASS?)" in problems
    assert "s.gpx:4: <openrally:fn> closes a neutralization but a special-stage is in progress" in problems
    assert "the special-stage opened here by <openrally:dss> is never closed" not in problems  # fn ended it (wrongly)


def test_an_unclosed_special_stage_is_a_problem():
    text = (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:o="http://www.openrally.org/xmlschemas/GpxExtensions/v1.0.1" '
        'version="1.1">\n<wpt lat="41" lon="20"><extensions><o:dss open="100" clear="10"/></extensions></wpt>\n</gpx>'
    )
    _, parsed = segments.read(text.encode(), "u.gpx")
    assert parsed.problems.lines() == [
        "u.gpx:2: the special-stage opened here by <openrally:dss> is never closed: no ASS after it"
    ]


def test_several_files_with_one_stage_option_are_refused(repo):
    with pytest.raises(CourseError, match="--stage names the stage of one file"):
        exchange.read_files([repo / DATA / "valid-v1.0.3.gpx"] * 2, "S", synthetic.DEFAULTS, "e")


def test_two_files_of_one_stage_name_are_refused(repo):
    with pytest.raises(CourseError) as info:
        exchange.read_files([repo / DATA / "valid-v1.0.3.gpx"] * 2, None, synthetic.DEFAULTS, "e")
    assert "stage 'Test stage Shkodër' is also in an earlier file" in info.value.details


def test_an_odometer_beyond_5000_km_is_a_problem():
    text = (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:o="http://www.openrally.org/xmlschemas/GpxExtensions/v1.0.3" '
        'version="1.1">\n<wpt lat="41" lon="20"><extensions><o:distance>12500</o:distance><o:wpm open="100" clear="10"/>'
        "</extensions></wpt>\n</gpx>"
    )
    _, parsed = segments.read(text.encode(), "km.gpx")
    assert parsed.problems.lines() == ["km.gpx:2: openrally:distance 12500 km is beyond 5000 km: is it in metres?"]
