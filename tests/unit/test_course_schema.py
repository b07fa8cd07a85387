"""Course files against the official OpenRally schema, as navigation tools check them (xmllint on the
vendored openrally.xsd v1.0.3 + GPX 1.1 strict): every committed GPX that claims v1.0.3, the older
versions' test files, and every file the export writes (no services)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.openrally import spread_example
from trm_directus.course import openrally_schema, segments, synthetic, validate, writer
from trm_directus.course.gpx import CURRENT, NAMESPACES
from trm_directus.course.stage import differences

pytestmark = pytest.mark.skipif(openrally_schema.unavailable() is not None, reason=f"{openrally_schema.unavailable()}")

COMMITTED = sorted([*(REPO / "seeds").rglob("*.gpx"), *(REPO / "tests" / "data").rglob("*.gpx")])


def claims(path) -> set[str]:
    """The OpenRally namespaces a file declares."""
    return set(re.findall(r'"(http://www\.openrally\.org/xmlschemas/GpxExtensions/[^"]*)"', path.read_text(errors="replace")))


V103 = [p for p in COMMITTED if CURRENT in claims(p)]
OLDER = [p for p in COMMITTED if claims(p) & (NAMESPACES - {CURRENT})]
# bad files whose problem the schema sees too (the others are schema-valid, refused for what they mean)
SCHEMA_REFUSES = {"bad-coordinates-out-of-range.gpx": "The value '91.000' is greater than the maximum value allowed ('90.0')"}
DATA = REPO / "tests" / "data" / "course"
EXPORTED = ["valid-v1.0.3.gpx", "valid-refuel-and-transfer-v1.0.3.gpx", "valid-statute-v1.0.2.gpx", "valid-v0.2-old-elements.gpx"]


def name(path) -> str:
    return str(path.relative_to(REPO))


def test_the_committed_files_are_found():
    assert len(V103) >= 15 and {p.name for p in OLDER} == {"valid-statute-v1.0.2.gpx", "valid-v0.2-old-elements.gpx"}


@pytest.mark.parametrize("path", V103, ids=name)
def test_every_committed_gpx_that_claims_v1_0_3_is_what_the_schema_says(path):
    verdict = openrally_schema.check(path)
    if path.name in SCHEMA_REFUSES:
        assert not verdict.valid and SCHEMA_REFUSES[path.name] in verdict.output
    else:
        assert verdict.valid, verdict.output
        assert verdict.output == f"{path} validates"


@pytest.mark.parametrize("path", OLDER, ids=name)
def test_older_version_files_say_which_version_they_are_and_why_v1_0_3_refuses_them(path):
    text = path.read_text()
    (namespace,) = claims(path)
    version = namespace.rsplit("/", 1)[1]
    comment = " ".join(text[text.index("<!--") : text.index("-->")].split())
    assert f"OpenRally {version}" in comment and "not valid against the v1.0.3 schema" in comment, comment
    verdict = openrally_schema.check(path)
    assert not verdict.valid
    assert f"{{http://www.openrally.org/xmlschemas/GpxExtensions/{version}}}" in verdict.output
    assert "No matching global element declaration available, but demanded by the strict wildcard" in verdict.output


def exported(stage, tmp_path, file: str) -> openrally_schema.Verdict:
    path = tmp_path / file
    path.write_text(writer.write(stage))
    return openrally_schema.check(path)


def imported(data: bytes, origin: str):
    stage, parsed = segments.read(data, origin)
    validate.resolve(stage, synthetic.DEFAULTS, parsed.problems)
    assert parsed.problems.lines() == []
    return stage


@pytest.mark.parametrize("path", [*sorted((REPO / "seeds").rglob("*.gpx")), *(DATA / n for n in EXPORTED)], ids=name)
def test_the_export_of_every_committed_course_validates(tmp_path, path):
    verdict = exported(imported(path.read_bytes(), path.name), tmp_path, path.name)
    assert verdict.valid, verdict.output


def test_the_export_of_the_synthetic_rally_validates(tmp_path):
    for i, stage in enumerate(synthetic.rally(stages=3, total_km=600, waypoints=120, seed=11)):
        verdict = exported(stage, tmp_path, f"stage-{i}.gpx")
        assert verdict.valid, verdict.output


def test_the_standards_example_spread_out_round_trips_through_a_valid_export(tmp_path):
    course = imported(spread_example().encode(), "example-spread.gpx")
    assert {w.type for _, _, w in course.waypoints()} >= {"DSS", "ASS", "SN", "FN", "DT", "FT", "TC", "DZ", "FZ", "CP"}
    verdict = exported(course, tmp_path, "example-export.gpx")
    assert verdict.valid, verdict.output
    back = imported((tmp_path / "example-export.gpx").read_bytes(), "example-export.gpx")
    assert differences(course, back) == [] and back == course
