"""The course model (Phase 2) on a stack booted from the committed artifacts, through Directus's REST API.

Every rule: the API answers 400 naming the rule and writes nothing; the database constraint
behind it refuses the same write from SQL (the processor and imports do not go through the API).
"""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import query
from tests.integration.graph import CourseGraph, TimingGraph, count, line, point, refused, square
from trm_directus.model import course

pytestmark = [pytest.mark.integration, pytest.mark.directus, pytest.mark.stack("shared")]

GEOMETRY_COLUMNS = {
    ("stages", "route"): ("geometry.LineString", "LineString"),
    ("geofences", "geometry"): ("geometry.Polygon", "Polygon"),
    ("waypoints", "location"): ("geometry.Point", "Point"),
    ("speed_limit_zones", "geometry"): ("geometry", "Geometry"),
}


@pytest.fixture
def cg(api) -> CourseGraph:
    return CourseGraph(api)


def sql_refused(stack, sql: str, params: tuple = ()) -> str:
    """Run a write as a non-API writer would; it must fail with a constraint error. The message."""
    with pytest.raises(psycopg.errors.IntegrityError) as info, psycopg.connect(stack.info.dsn, autocommit=True) as conn:
        conn.execute(sql, params)
    return str(info.value)


# --- the collections ---------------------------------------------------------------------------


def test_course_collections_sit_in_the_course_folder_with_map_interfaces(api):
    collections = {c["collection"]: c for c in api.get("/collections", limit=-1)}
    for c in course.COLLECTIONS:
        meta = collections[c.name]["meta"]
        assert meta["group"] == "course" and meta["note"] and meta["icon"], c.name
    for (collection, field), (directus_type, _) in GEOMETRY_COLUMNS.items():
        f = api.get(f"/fields/{collection}/{field}")
        assert f["type"] == directus_type, (collection, field, f["type"])
        assert f["meta"]["interface"] == "map", (collection, field)


def test_geometry_columns_are_postgis_in_srid_4326_with_gist_indexes(stack, api):
    for (table, column), (_, pg_type) in GEOMETRY_COLUMNS.items():
        # db-init owns the GiST index; Directus must not count it (it would try to drop it: drift gate).
        assert api.get(f"/fields/{table}/{column}")["schema"]["is_indexed"] is False, (table, column)
        rows = query(
            stack.info.dsn,
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = %s",
            (table, column),
        )
        assert rows == [(pg_type.upper(), 4326)], (table, column, rows)
        gist = query(
            stack.info.dsn,
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE %s",
            (table, f"%USING gist ({column}) INCLUDE (id)%"),
        )[0][0]
        assert gist == 1, f"no GiST index on {table}.{column}"


def test_geometry_round_trips_as_geojson(cg):
    event = cg.event()
    polygon = square(19.5, 42.0, 0.02)
    fence = cg.geofence(event, geometry=polygon)
    assert cg.api.get(f"/items/geofences/{fence['id']}")["geometry"] == polygon
    wp = cg.waypoint(location=point(20.0123456, 41.9876543))
    assert cg.api.get(f"/items/waypoints/{wp['id']}")["location"] == point(20.0123456, 41.9876543)
    route = line((19.1, 41.1), (19.2, 41.15), (19.3, 41.2))
    stage = cg.stage(event, route=route)
    assert cg.api.get(f"/items/stages/{stage['id']}")["route"] == route


# --- geometry validity -------------------------------------------------------------------------

BOWTIE = {"type": "Polygon", "coordinates": [[[19.0, 41.0], [19.1, 41.1], [19.1, 41.0], [19.0, 41.1], [19.0, 41.0]]]}
FLAT = {"type": "Polygon", "coordinates": [[[19.0, 41.0], [19.1, 41.0], [19.2, 41.0], [19.0, 41.0]]]}
OPEN_RING = {"type": "Polygon", "coordinates": [[[19.0, 41.0], [19.1, 41.0], [19.1, 41.1], [19.0, 41.1]]]}


@pytest.mark.parametrize(
    "geometry, says",
    [
        (BOWTIE, "Self-intersection"),
        (FLAT, "valid"),
        (OPEN_RING, "do not form a closed linestring"),
        (point(), "must be a Polygon, not a POINT"),
        (square(200.0, 41.0), "out of range"),
        ({"type": "Polygon", "coordinates": "nonsense"}, "not a valid GeoJSON"),
    ],
    ids=["self-intersecting", "degenerate", "unclosed", "wrong-type", "out-of-range", "not-geojson"],
)
def test_invalid_geofence_geometry_is_refused_on_create_and_update(cg, stack, geometry, says):
    event = cg.event()
    before = count(stack, "geofences")
    err = refused(lambda: cg.geofence(event, geometry=geometry), code="INVALID_PAYLOAD")
    assert says in err.what, err.what
    assert count(stack, "geofences") == before
    fence = cg.geofence(event)
    err = refused(lambda: cg.api.patch(f"/items/geofences/{fence['id']}", {"geometry": geometry}), code="INVALID_PAYLOAD")
    assert says in err.what
    assert cg.api.get(f"/items/geofences/{fence['id']}")["geometry"] == square()


def test_invalid_geometries_are_refused_by_the_database_too(cg, stack):
    fence = cg.geofence(cg.event())
    msg = sql_refused(
        stack,
        "UPDATE geofences SET geometry = ST_GeomFromText('POLYGON((19 41, 19.1 41.1, 19.1 41, 19 41.1, 19 41))', 4326) "
        "WHERE id = %s",
        (fence["id"],),
    )
    assert "geofences_geometry_valid_check" in msg
    wp = cg.waypoint()
    msg = sql_refused(stack, "UPDATE waypoints SET location = ST_SetSRID(ST_MakePoint(190, 41), 4326) WHERE id = %s", (wp["id"],))
    assert "waypoints_location_valid_check" in msg


def test_speed_zone_takes_a_polygon_or_a_corridor_line_but_nothing_else(cg, stack):
    seg = cg.segment()
    for geometry in (square(), line()):
        zone = cg.api.post(
            "/items/speed_limit_zones", {"segment_id": seg["id"], "name": "village", "speed_limit_kmh": 50, "geometry": geometry}
        )
        assert cg.api.get(f"/items/speed_limit_zones/{zone['id']}")["geometry"] == geometry
    before = count(stack, "speed_limit_zones")
    err = refused(
        lambda: cg.api.post("/items/speed_limit_zones", {"segment_id": seg["id"], "speed_limit_kmh": 50, "geometry": point()}),
        code="INVALID_PAYLOAD",
    )
    assert "Polygon or LineString" in err.what
    assert count(stack, "speed_limit_zones") == before


# --- radii ---------------------------------------------------------------------------------------


def test_waypoint_without_radii_takes_the_events_default_for_its_type(cg):
    seg = cg.segment()
    stage = cg.api.get(f"/items/stages/{seg['stage_id']}")
    cg.radius_default({"id": stage["event_id"]}, "WPM", 800, 90)
    wp = cg.waypoint(seg, type="WPM", open_radius_m=None, validation_radius_m=None)
    assert (wp["open_radius_m"], wp["validation_radius_m"]) == (800, 90)
    own = cg.waypoint(seg, type="WPM", open_radius_m=500, validation_radius_m=None)
    assert (own["open_radius_m"], own["validation_radius_m"]) == (500, 90)


def test_waypoint_without_radii_and_without_a_default_is_refused(cg, stack):
    seg = cg.segment()
    before = count(stack, "waypoints")
    err = refused(lambda: cg.waypoint(seg, type="WPS", open_radius_m=None, validation_radius_m=None), code="INVALID_PAYLOAD")
    assert "no opening radius" in err.what and "WPS" in err.what and "waypoint_radius_defaults" in err.what
    assert count(stack, "waypoints") == before


def test_validation_radius_larger_than_opening_is_refused_everywhere(cg, stack):
    seg = cg.segment()
    before = count(stack, "waypoints")
    err = refused(lambda: cg.waypoint(seg, open_radius_m=100, validation_radius_m=200), code="INVALID_PAYLOAD")
    assert "larger than the opening radius" in err.what
    assert count(stack, "waypoints") == before
    wp = cg.waypoint(seg, open_radius_m=300, validation_radius_m=200)
    err = refused(lambda: cg.api.patch(f"/items/waypoints/{wp['id']}", {"open_radius_m": 150}), code="INVALID_PAYLOAD")
    assert cg.api.get(f"/items/waypoints/{wp['id']}")["open_radius_m"] == 300
    refused(lambda: cg.waypoint(seg, open_radius_m=0, validation_radius_m=0), code="FAILED_VALIDATION")
    event = {"id": cg.api.get(f"/items/stages/{seg['stage_id']}")["event_id"]}
    err = refused(lambda: cg.radius_default(event, "WPC", 20, 300), code="INVALID_PAYLOAD")
    assert "radius default for WPC" in err.what
    assert "waypoints_radii_check" in sql_refused(
        stack, "UPDATE waypoints SET validation_radius_m = 999 WHERE id = %s", (wp["id"],)
    )


def test_time_control_types_pass_every_type_check_and_an_unknown_type_does_not(cg, stack):
    seg = cg.segment()
    event = {"id": cg.api.get(f"/items/stages/{seg['stage_id']}")["event_id"]}
    for t in ("DT", "FT", "SN", "FN"):  # db-init/post/108: start / end of a liaison and of a neutralization
        cg.radius_default(event, t, 200, 50)
        wp = cg.waypoint(seg, type=t, open_radius_m=None, validation_radius_m=None)
        assert (wp["type"], wp["open_radius_m"], wp["validation_radius_m"]) == (t, 200, 50)
    TimingGraph(cg.api).formula(event, waypoint_type="SN", seconds=600)
    for table, column, check in (
        ("waypoints", "type", "waypoints_type_check"),
        ("waypoint_radius_defaults", "waypoint_type", "waypoint_radius_defaults_type_check"),
        ("penalty_formulas", "waypoint_type", "penalty_formulas_waypoint_type_check"),
    ):
        where = "segment_id = %s" if table == "waypoints" else "event_id = %s"
        key = seg["id"] if table == "waypoints" else event["id"]
        assert check in sql_refused(stack, f"UPDATE {table} SET {column} = 'XX' WHERE {where}", (key,))


def test_radius_default_is_unique_per_event_and_type(cg, stack):
    event = cg.event()
    cg.radius_default(event, "WPE", 200, 90)
    before = count(stack, "waypoint_radius_defaults")
    refused(lambda: cg.radius_default(event, "WPE", 300, 90), code="RECORD_NOT_UNIQUE")
    assert count(stack, "waypoint_radius_defaults") == before
    cg.radius_default(cg.event(), "WPE", 300, 90)  # another event may differ


# --- values, sort orders ----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [3, 300])
def test_speed_limit_out_of_the_sane_range_is_refused(cg, stack, limit):
    seg = cg.segment()
    before = count(stack, "speed_limit_zones")
    refused(
        lambda: cg.api.post(
            "/items/speed_limit_zones", {"segment_id": seg["id"], "speed_limit_kmh": limit, "geometry": square()}
        ),
        code="FAILED_VALIDATION",
    )
    assert count(stack, "speed_limit_zones") == before


def test_sort_orders_are_unique_within_their_parent_only(cg, stack):
    event = cg.event()
    cg.stage(event, sort_order=1, name="Stage 1")
    before = count(stack, "stages")
    refused(lambda: cg.stage(event, sort_order=1, name="Other"), code="RECORD_NOT_UNIQUE")
    assert count(stack, "stages") == before
    cg.stage(cg.event(), sort_order=1, name="Stage 1")  # another event: fine
    seg = cg.segment()
    cg.waypoint(seg, sort_order=5, code="WP5")
    refused(lambda: cg.waypoint(seg, sort_order=5, code="WP6"), code="RECORD_NOT_UNIQUE")
    refused(lambda: cg.waypoint(seg, sort_order=6, code="WP5"), code="RECORD_NOT_UNIQUE")
    cg.waypoint(cg.segment(), sort_order=5, code="WP5")  # another segment: fine
    stage = cg.stage()
    cg.segment(stage, sort_order=1)
    refused(lambda: cg.segment(stage, sort_order=1), code="RECORD_NOT_UNIQUE")


def test_max_duration_below_target_is_refused(cg, stack):
    stage = cg.stage()
    before = count(stack, "segments")
    err = refused(lambda: cg.segment(stage, target_duration_seconds=3600, max_duration_seconds=1800), code="INVALID_PAYLOAD")
    assert "below target_duration_seconds" in err.what
    assert count(stack, "segments") == before


# --- same event, same segment ------------------------------------------------------------------------


def test_segment_geofences_of_another_event_are_refused_on_create_and_update(cg, stack):
    stage = cg.stage()
    own = cg.geofence({"id": stage["event_id"]})
    foreign = cg.geofence(cg.event(), name="Foreign start")
    before = count(stack, "segments")
    err = refused(lambda: cg.segment(stage, entry_geofence_id=foreign["id"]), code="INVALID_PAYLOAD")
    assert "Foreign start" in err.what and "own event" in err.what
    assert count(stack, "segments") == before
    seg = cg.segment(stage, entry_geofence_id=own["id"])
    refused(lambda: cg.api.patch(f"/items/segments/{seg['id']}", {"exit_geofence_id": foreign["id"]}), code="INVALID_PAYLOAD")
    assert cg.api.get(f"/items/segments/{seg['id']}")["exit_geofence_id"] is None
    msg = sql_refused(stack, "UPDATE segments SET exit_geofence_id = %s WHERE id = %s", (foreign["id"], seg["id"]))
    assert "geofences must belong to the segment's event" in msg


def test_speed_zone_waypoints_must_be_a_dz_and_an_fz_of_its_segment(cg, stack):
    seg = cg.segment()
    dz = cg.waypoint(seg, type="DZ", code="DZ1")
    fz = cg.waypoint(seg, type="FZ", code="FZ1")
    other_dz = cg.waypoint(cg.segment(), type="DZ", code="DZ9")
    zone = {"segment_id": seg["id"], "speed_limit_kmh": 50, "geometry": line()}
    ok = cg.api.post("/items/speed_limit_zones", {**zone, "starts_at_waypoint_id": dz["id"], "ends_at_waypoint_id": fz["id"]})
    before = count(stack, "speed_limit_zones")
    err = refused(
        lambda: cg.api.post("/items/speed_limit_zones", {**zone, "starts_at_waypoint_id": other_dz["id"]}), code="INVALID_PAYLOAD"
    )
    assert "another segment" in err.what
    err = refused(
        lambda: cg.api.post("/items/speed_limit_zones", {**zone, "starts_at_waypoint_id": fz["id"]}), code="INVALID_PAYLOAD"
    )
    assert "must be a DZ waypoint" in err.what
    assert count(stack, "speed_limit_zones") == before
    refused(
        lambda: cg.api.patch(f"/items/speed_limit_zones/{ok['id']}", {"ends_at_waypoint_id": dz["id"]}), code="INVALID_PAYLOAD"
    )
    msg = sql_refused(stack, "UPDATE waypoints SET type = 'WPV' WHERE id = %s", (dz["id"],))
    assert "DZ and ends at an FZ" in msg


def test_start_order_input_stage_of_another_event_is_refused(cg):
    stage = cg.stage()
    foreign = cg.stage(name="Foreign prologue")
    err = refused(
        lambda: cg.api.patch(f"/items/stages/{stage['id']}", {"start_order_input_stage_id": foreign["id"]}),
        code="INVALID_PAYLOAD",
    )
    assert "Foreign prologue" in err.what
    refused(
        lambda: cg.api.patch(f"/items/stages/{stage['id']}", {"start_order_input_stage_id": stage["id"]}), code="INVALID_PAYLOAD"
    )
    prologue = cg.stage({"id": stage["event_id"]}, name="Prologue", kind="prologue")
    patched = cg.api.patch(f"/items/stages/{stage['id']}", {"start_order_input_stage_id": prologue["id"]})
    assert patched["start_order_input_stage_id"] == prologue["id"]


def test_deleting_a_stage_with_segments_is_refused_and_nothing_is_deleted(cg, stack):
    seg = cg.segment()
    err = refused(lambda: cg.api.delete(f"/items/stages/{seg['stage_id']}"), code="INVALID_PAYLOAD")
    assert "segments.stage_id (1 row)" in err.what
    assert cg.api.get(f"/items/stages/{seg['stage_id']}")["id"] == seg["stage_id"]


def test_batch_create_is_checked_item_by_item_and_all_or_nothing(cg, stack):
    seg = cg.segment()
    good = {
        "segment_id": seg["id"],
        "code": "B1",
        "type": "WPV",
        "location": point(),
        "open_radius_m": 300,
        "validation_radius_m": 200,
    }
    bad = {**good, "code": "B2", "open_radius_m": 100}
    before = count(stack, "waypoints")
    refused(
        lambda: cg.api.post("/items/waypoints", [{**good, "sort_order": 1}, {**bad, "sort_order": 2}]), code="INVALID_PAYLOAD"
    )
    assert count(stack, "waypoints") == before
