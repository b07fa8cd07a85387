"""The course (domain.md "Phase 2"): stages, segments, geofences, waypoints, speed zones, radius defaults.

What the processor reads to time and penalise. Geometry is PostGIS in SRID 4326, edited on
Directus's map interface (GeoJSON through the API). GiST indexes, geometry validity, radius and
speed checks, per-parent sort orders and the same-event / same-segment rules live in
db-init/post/102; the rules that must answer 400 in extensions/trm-integrity. Waypoint radii are
data: a per-event default per waypoint type (`waypoint_radius_defaults`), overridable per waypoint.

Sort orders are plain numbers, not Directus sort fields: Directus's drag-sort (`/utils/sort`)
renumbers the whole table statement by statement outside a transaction, which per-parent unique
sort orders (102) would refuse half-way.
"""

from __future__ import annotations

from .fields import (
    M2O,
    Collection,
    Folder,
    boolean,
    choice,
    created_updated,
    geometry,
    integer,
    json_field,
    number,
    readonly,
    string,
    text,
    timestamp,
)

STAGE_KINDS = ["prologue", "stage", "marathon", "epilogue"]
STAGE_STATUSES = ["draft", "open", "closed", "official"]
START_ORDER_STRATEGIES = ["manual", "previous_stage_clean_result", "inverse_top_n_then_natural", "inverse_of_overall"]
SEGMENT_TYPES = ["liaison", "special-stage", "parc-ferme", "neutralization"]
GEOFENCE_KINDS = ["start", "finish", "control", "parc-ferme", "neutralization", "zone"]
WAYPOINT_TYPES = ["DSS", "ASS", "WPV", "WPM", "WPE", "WPS", "WPC", "WPN", "WPP", "DZ", "FZ", "CP", "TC", "DT", "FT", "SN", "FN"]
WAYPOINT_TYPE_LABELS = {
    "DSS": "DSS · start of special",
    "ASS": "ASS · arrival of special",
    "WPV": "WPV · visible",
    "WPM": "WPM · masked",
    "WPE": "WPE · eclipsed",
    "WPS": "WPS · safety",
    "WPC": "WPC · control",
    "WPN": "WPN · navigation",
    "WPP": "WPP · passage",
    "DZ": "DZ · speed zone start",
    "FZ": "FZ · speed zone end",
    "CP": "CP · checkpoint",
    "TC": "TC · time control",
    "DT": "DT · start of liaison (time control)",
    "FT": "FT · end of liaison (time control)",
    "SN": "SN · start of neutralization (time control)",
    "FN": "FN · end of neutralization (time control)",
}
SPEED_LIMIT_RANGE = (5, 250)

FOLDER = Folder("course", "route", "Where an event goes: stages, segments, geofences, waypoints and speed zones.", 3)


def _radius(name: str, what: str) -> dict:
    return integer(name, minimum=1, note=f"{what} in metres; empty = the event's default for this waypoint type.")


COLLECTIONS = [
    Collection(
        "stages",
        "calendar_view_day",
        "A day of racing (prologue, stage, marathon stage, epilogue) of an event, in sort order. Opening a stage "
        "materialises start slots from its start-order strategy; the route is the stage's track.",
        "{{sort_order}} · {{name}}",
        group="course",
        sort=1,
        fields=[
            string("name", required=True, max_length=120, note="e.g. Prologue, Stage 3 Shkodër – Kukës. Unique in the event."),
            integer("sort_order", required=True, minimum=0, note="Order within the event (0 = prologue); unique in the event."),
            choice("kind", STAGE_KINDS, default="stage", note="Prologue sets the start order; marathon = no assistance."),
            choice("status", STAGE_STATUSES, default="draft", note="draft → open → closed → official."),
            timestamp("starts_at", note="Scheduled start of the first entry."),
            integer("start_interval_seconds", minimum=0, maximum=3600, note="Seconds between two starters."),
            choice(
                "start_order_strategy",
                START_ORDER_STRATEGIES,
                default="manual",
                note="How the start list is made when the stage opens.",
                labels={
                    "manual": "Manual",
                    "previous_stage_clean_result": "Previous stage, clean result",
                    "inverse_top_n_then_natural": "Inverse top N, then natural",
                    "inverse_of_overall": "Inverse of overall",
                },
            ),
            json_field("start_order_strategy_params", note='Strategy parameters, e.g. {"n": 10}.'),
            geometry("route", "LineString", required=False, note="The stage's track (set by the OpenRally import)."),
            text("notes", note="Notes for the race direction."),
            *created_updated(),
        ],
    ),
    Collection(
        "segments",
        "timeline",
        "A part of a stage, in sort order: liaison, special stage, parc fermé, neutralization. Entry/exit geofences "
        "open and close it; they belong to the stage's event.",
        "{{sort_order}} · {{type}} {{name}}",
        group="course",
        sort=2,
        fields=[
            integer("sort_order", required=True, minimum=0, note="Order within the stage; unique in the stage."),
            choice("type", SEGMENT_TYPES, note="What is timed here."),
            string("name", max_length=120, note="Optional, e.g. SS3 Theth."),
            integer("target_duration_seconds", minimum=1, note="Ideal time (liaisons: the time allowed)."),
            integer("max_duration_seconds", minimum=1, note="Maximum time; controls close after it. At least the target."),
            readonly(
                timestamp(
                    "controls_close_at",
                    note="When the segment's controls close: the last scheduled start (entry_segment_starts.target_at) + "
                    "max_duration_seconds. Set by trm-operations when the stage opens and whenever starts or the maximum "
                    "time change; empty without starts or without a maximum time. Not editable.",
                )
            ),
        ],
    ),
    Collection(
        "geofences",
        "pentagon",
        "A polygon of an event that opens or closes segments (start, finish, controls, parc fermé). Retroactive "
        "edits make the processor recompute.",
        "{{name}}",
        group="course",
        sort=3,
        fields=[
            string("name", required=True, max_length=120, note="Unique in the event, e.g. SS3 start."),
            choice("kind", GEOFENCE_KINDS, required=False, note="What the geofence marks."),
            geometry("geometry", "Polygon", note="A closed, valid polygon (SRID 4326)."),
            boolean("manual_verification", note="Crossings are confirmed by a marshal."),
            boolean("retroactive", note="Edits apply to crossings already computed (recompute)."),
        ],
    ),
    Collection(
        "waypoints",
        "where_to_vote",
        "A roadbook waypoint of a segment: type, WP number, location and radii (opening: where the GPS shows the way; "
        "validation: how close counts as passed). Empty radii take the event's default for the type.",
        "{{code}} · {{type}}",
        group="course",
        sort=4,
        fields=[
            string("code", required=True, max_length=20, font="monospace", note="WP number (roadbook); unique in the segment."),
            choice("type", WAYPOINT_TYPES, labels=WAYPOINT_TYPE_LABELS, note="Waypoint type (FIM/Dakar)."),
            geometry("location", "Point", note="Where the waypoint is (SRID 4326)."),
            _radius("open_radius_m", "Opening radius"),
            _radius("validation_radius_m", "Validation radius (not more than the opening radius)"),
            integer("sort_order", required=True, minimum=0, note="Order within the segment; unique in the segment."),
            number("distance_km", minimum=0, maximum=5000, note="Odometer distance from the start of the stage."),
            integer("cap", minimum=0, maximum=359, note="Heading to the next waypoint, degrees."),
            integer("danger", minimum=1, maximum=3, note="Danger level 1–3 (roadbook)."),
            text("notes", note="Roadbook notes."),
        ],
    ),
    Collection(
        "speed_limit_zones",
        "speed",
        "A speed-limited zone of a segment from its DZ to its FZ waypoint (both in the segment), whatever route is "
        "taken; geometry is a polygon or a corridor line.",
        "{{name}} · {{speed_limit_kmh}} km/h",
        group="course",
        sort=5,
        fields=[
            string("name", max_length=120, note="e.g. DZ 12 → FZ 13 (Bajram Curri)."),
            integer(
                "speed_limit_kmh",
                required=True,
                minimum=SPEED_LIMIT_RANGE[0],
                maximum=SPEED_LIMIT_RANGE[1],
                note="Speed limit in km/h.",
            ),
            geometry("geometry", None, note="Polygon, or LineString corridor along the track (SRID 4326)."),
            boolean("retroactive", note="Edits apply to penalties already computed (recompute)."),
            boolean("enabled", default=True, note="Disabled zones are not evaluated."),
        ],
    ),
    Collection(
        "waypoint_radius_defaults",
        "radar",
        "Per event and waypoint type: the opening and validation radius a waypoint gets when it has none. Radii differ "
        "between rulebooks and years, so they are data, not code. One row per (event, type).",
        "{{waypoint_type}} · {{open_radius_m}} m / {{validation_radius_m}} m",
        group="course",
        sort=6,
        fields=[
            choice("waypoint_type", WAYPOINT_TYPES, labels=WAYPOINT_TYPE_LABELS, note="The waypoint type."),
            integer("open_radius_m", required=True, minimum=1, note="Opening radius in metres."),
            integer("validation_radius_m", required=True, minimum=1, note="Validation radius in metres (≤ opening)."),
        ],
    ),
]

RELATIONS = [
    M2O(
        "stages",
        "event_id",
        "events",
        "{{name}}",
        alias="stages",
        alias_template="{{sort_order}} · {{name}} · {{status}}",
        alias_note="Stages of this event, in order.",
        note="The event.",
    ),
    M2O(
        "stages",
        "start_order_input_stage_id",
        "stages",
        "{{sort_order}} · {{name}}",
        required=False,
        indexed=True,
        note="The stage whose result orders this one (must be official when this stage opens).",
    ),
    M2O(
        "segments",
        "stage_id",
        "stages",
        "{{sort_order}} · {{name}}",
        alias="segments",
        alias_template="{{sort_order}} · {{type}} {{name}}",
        alias_note="Segments of this stage, in order.",
        note="The stage.",
    ),
    M2O(
        "segments",
        "entry_geofence_id",
        "geofences",
        "{{name}}",
        required=False,
        indexed=True,
        note="Crossing it starts the segment.",
    ),
    M2O(
        "segments",
        "exit_geofence_id",
        "geofences",
        "{{name}}",
        required=False,
        indexed=True,
        note="Crossing it ends the segment.",
    ),
    M2O(
        "geofences",
        "event_id",
        "events",
        "{{name}}",
        alias="geofences",
        alias_template="{{name}} · {{kind}}",
        alias_note="Geofences of this event.",
        note="The event.",
    ),
    M2O(
        "waypoints",
        "segment_id",
        "segments",
        "{{stage_id.name}} · {{sort_order}} {{type}}",
        alias="waypoints",
        alias_template="{{code}} · {{type}}",
        alias_note="Waypoints of this segment, in order.",
        note="The segment.",
    ),
    M2O(
        "speed_limit_zones",
        "segment_id",
        "segments",
        "{{stage_id.name}} · {{sort_order}} {{type}}",
        alias="speed_zones",
        indexed=True,
        alias_template="{{name}} · {{speed_limit_kmh}} km/h",
        alias_note="Speed zones of this segment.",
        note="The segment.",
    ),
    M2O(
        "speed_limit_zones",
        "starts_at_waypoint_id",
        "waypoints",
        "{{code}} · {{type}}",
        required=False,
        indexed=True,
        note="The DZ waypoint (same segment).",
    ),
    M2O(
        "speed_limit_zones",
        "ends_at_waypoint_id",
        "waypoints",
        "{{code}} · {{type}}",
        required=False,
        indexed=True,
        note="The FZ waypoint (same segment).",
    ),
    M2O(
        "waypoint_radius_defaults",
        "event_id",
        "events",
        "{{name}}",
        alias="radius_defaults",
        alias_template="{{waypoint_type}} · {{open_radius_m}} / {{validation_radius_m}} m",
        alias_note="Default radii per waypoint type.",
        note="The event.",
    ),
]

ORDER = {
    "events": ["stages", "geofences", "radius_defaults"],
    "stages": [
        "id",
        "event_id",
        "sort_order",
        "name",
        "kind",
        "status",
        "starts_at",
        "start_interval_seconds",
        "start_order_strategy",
        "start_order_strategy_params",
        "start_order_input_stage_id",
        "segments",
        "route",
        "notes",
        "created_at",
        "updated_at",
    ],
    "segments": [
        "id",
        "stage_id",
        "sort_order",
        "type",
        "name",
        "entry_geofence_id",
        "exit_geofence_id",
        "target_duration_seconds",
        "max_duration_seconds",
        "controls_close_at",
        "waypoints",
        "speed_zones",
    ],
    "geofences": ["id", "event_id", "name", "kind", "geometry", "manual_verification", "retroactive"],
    "waypoints": [
        "id",
        "segment_id",
        "sort_order",
        "code",
        "type",
        "location",
        "open_radius_m",
        "validation_radius_m",
        "distance_km",
        "cap",
        "danger",
        "notes",
    ],
    "speed_limit_zones": [
        "id",
        "segment_id",
        "name",
        "speed_limit_kmh",
        "starts_at_waypoint_id",
        "ends_at_waypoint_id",
        "geometry",
        "retroactive",
        "enabled",
    ],
    "waypoint_radius_defaults": ["id", "event_id", "waypoint_type", "open_radius_m", "validation_radius_m"],
}
