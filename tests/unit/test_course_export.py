"""Export to OpenRally GPX and back: import(export(x)) == x on the document level (no services)."""

from __future__ import annotations

import dataclasses

import pytest

from trm_directus.course import segments, synthetic, validate, writer
from trm_directus.course.stage import Segment, Stage, differences

DATA = "tests/data/course"


def imported(data: bytes, name: str = "x.gpx") -> Stage:
    stage, parsed = segments.read(data, name)
    validate.resolve(stage, synthetic.DEFAULTS, parsed.problems)
    assert parsed.problems.lines() == []
    return stage


@pytest.mark.parametrize("name", ["valid-v1.0.3.gpx", "valid-v0.2-old-elements.gpx", "valid-statute-v1.0.2.gpx"])
def test_import_of_the_export_of_each_test_file_is_the_same_course(repo, name):
    course = imported((repo / DATA / name).read_bytes())
    text = writer.write(course)
    again = imported(text.encode())
    assert differences(course, again) == []
    assert again == course
    assert writer.check(course, text, synthetic.DEFAULTS) == []


def test_the_export_is_current_openrally_in_metric_units(repo):
    text = writer.write(imported((repo / DATA / "valid-statute-v1.0.2.gpx").read_bytes()))
    assert 'xmlns:openrally="http://www.openrally.org/xmlschemas/GpxExtensions/v1.0.3"' in text
    assert "<openrally:units>metric</openrally:units>" in text
    assert (
        '<openrally:wpm name="12" open="800" clear="90"/>' in text and "<openrally:distance>16.093</openrally:distance>" in text
    )
    assert "<openrally:speed>50</openrally:speed>" in text


def test_export_writes_each_time_control_as_its_element_with_what_the_schema_allows(repo):
    text = writer.write(imported((repo / DATA / "valid-v1.0.3.gpx").read_bytes()))
    assert '<openrally:dt open="200" clear="50"/>\n      <openrally:timecontrol allowed="45"/>' in text
    assert "<name>TC2</name>" in text and "<openrally:neutralization>900</openrally:neutralization>" in text  # no attributes
    assert '<openrally:fn open="200" clear="50"/>' in text and '<openrally:ft open="200" clear="50"/>' in text
    assert 'name="CP A"' in text and 'name="TC1"' not in text  # generated codes are not written back


def test_an_sn_radius_and_a_target_of_no_whole_minutes_are_reported_as_lost(repo):
    course = imported((repo / DATA / "valid-refuel-and-transfer-v1.0.3.gpx").read_bytes())
    wps = {w.code: (s, i) for s, seg in enumerate(course.segments) for i, w in enumerate(seg.waypoints)}
    s, i = wps["N5"]  # an SN's own radii: neutralization has no open/clear attributes
    course.segments[s].waypoints[i] = dataclasses.replace(course.segments[s].waypoints[i], open_radius_m=300)
    course.segments[0].target_duration_seconds = 4530  # 75.5 minutes: timecontrol allowed is whole minutes
    text = writer.write(course)
    assert '<openrally:timecontrol allowed="76"/>' in text
    assert writer.check(course, text, synthetic.DEFAULTS) == [
        "segment 0 target_duration_seconds: 4530 → 4560",
        "waypoint N5: open_radius_m 300 → 200",
    ]


def test_the_synthetic_rally_round_trips_stage_by_stage():
    for stage in synthetic.rally(stages=7, total_km=700, waypoints=140, seed=7):
        back = imported(writer.write(stage).encode())
        resolved = dataclasses.replace(stage, segments=[dataclasses.replace(s) for s in stage.segments])
        validate.resolve(resolved, synthetic.DEFAULTS, validate.Problems("x"))
        assert differences(resolved, back) == []


def test_a_course_that_openrally_cannot_express_is_reported_by_the_check(repo):
    course = imported((repo / DATA / "valid-v1.0.3.gpx").read_bytes())
    # a parc-fermé segment made in the admin UI between the neutralization and the special stage
    course.segments.insert(3, Segment("parc-ferme", [course.segments[3].waypoints.pop(0)]))
    text = writer.write(course)
    problems = writer.check(course, text, synthetic.DEFAULTS)
    assert problems and any("segments" in p or "segment 3" in p for p in problems)


def test_export_escapes_names():
    course = Stage('Stage <1> & "2"', [Segment("liaison", [])])
    text = writer.write(course)
    assert '<name>Stage &lt;1&gt; &amp; "2"</name>' in text
