"""Timing and penalties (domain.md "Phase 3"): rule values, start slots, crossings, penalties, stage results.

"Numbers in the database, math in code": this repository owns every rule number (penalty_formulas),
the tables the processor writes (entry_crossings, proposed entry_penalties, stage_results'
elapsed time) and the review workflow in which a race director turns computed penalties into
official results. The constraints, the formula resolution, the ranking and the publish step live
in db-init/post/103; the rules that must answer 400 in extensions/trm-integrity (timing.ts); who
writes what is db-init/README.md "The processor contract".
"""

from __future__ import annotations

from typing import Any

from .course import WAYPOINT_TYPE_LABELS, WAYPOINT_TYPES
from .fields import (
    M2O,
    Collection,
    Folder,
    boolean,
    choice,
    created_updated,
    integer,
    json_field,
    readonly,
    string,
    text,
    timestamp,
    uuid_value,
)

# What a penalty is for, and the unit its offence is measured in (offence_min/offence_max, per_unit).
PENALTY_TYPES = {
    "speeding": "km/h over the limit",
    "missed_waypoint": "waypoints missed",
    "late_start": "minutes late",
    "late_arrival": "minutes late",
    "early_arrival": "minutes early",
    "max_time_exceeded": "minutes over the maximum time",
    "dns": "(no offence amount)",
    "dnf": "(no offence amount)",
}
# Most specific last: a formula attached to a speed zone beats one on its segment, stage or event.
ATTACHMENTS = ["event", "stage", "segment", "waypoint", "speed_limit_zone"]
OPERATORS = ["flat", "per_unit"]
PENALTY_STATUSES = ["proposed", "applied", "waived"]
RESULT_STATUSES = ["provisional", "official"]
CROSSING_SOURCES = ["gps", "manual"]

FOLDER = Folder(
    "timing", "timer", "What happened on the course and what it costs: penalty rules, start slots, crossings, results.", 4
)


def _colored(payload: dict[str, Any], colors: dict[str, str]) -> dict[str, Any]:
    """Badges in lists: the labels display with a background colour per value."""
    for choice_ in payload["meta"]["display_options"]["choices"]:
        choice_.update(foreground="#FFFFFF", background=colors[choice_["value"]])
    return payload


def _placeholder() -> dict[str, Any]:
    f = boolean(
        "placeholder",
        note="Not yet the event's own value (a reference value used until the Supplementary Regulation, published 60 "
        "days before the event, replaces it). Shown as PLACEHOLDER in lists and in the summary.",
    )
    f["meta"]["display_options"] = {
        "labelOn": "PLACEHOLDER",
        "labelOff": "regulation",
        "iconOn": "warning",
        "iconOff": "verified",
        "colorOn": "#E35169",
        "colorOff": "#2ECDA7",
    }
    return f


def _computed(name: str, note: str) -> dict[str, Any]:
    return readonly(integer(name, note=f"{note} Computed by the database (db-init/post/103); not editable."))


COLLECTIONS = [
    Collection(
        "penalty_formulas",
        "gavel",
        "Rule values (what an offence costs) of an event, attached to the event, a stage, a segment, a waypoint or a "
        "speed zone. A rule is one flat row or a set of brackets (offence_min < offence ≤ offence_max, contiguous, no "
        "overlap). The most specific rule wins: speed zone > waypoint > segment > stage > event, and at the same "
        "attachment a rule for the waypoint's type beats one for every type. PLACEHOLDER rows are reference values "
        "until the Supplementary Regulation replaces them.",
        "{{summary}}",
        group="timing",
        sort=1,
        fields=[
            choice(
                "type",
                list(PENALTY_TYPES),
                note="What the penalty is for. Offence units: "
                + "; ".join(f"{k}: {v}" for k, v in PENALTY_TYPES.items() if not v.startswith("("))
                + ".",
            ),
            choice(
                "belongs_to_type",
                ATTACHMENTS,
                default="event",
                note="What the rule is attached to (most specific wins).",
                labels={"speed_limit_zone": "speed zone"},
            ),
            uuid_value("belongs_to_id", note="The stage / segment / waypoint / speed zone (of this event); empty for the event."),
            choice(
                "waypoint_type",
                WAYPOINT_TYPES,
                required=False,
                labels=WAYPOINT_TYPE_LABELS,
                note="missed_waypoint only: the rule applies to waypoints of this type (e.g. WPN 60 min, WPP 2 min).",
            ),
            integer("offence_min", minimum=0, note="Bracket: applies when the offence is MORE than this. Empty = a flat rule."),
            integer("offence_max", minimum=1, note="Bracket: up to and including this; empty = no upper bound."),
            choice("operator", OPERATORS, default="flat", note="flat: penalty_seconds once; per_unit: × the offence amount."),
            integer("penalty_seconds", required=True, minimum=0, note="The penalty in seconds (15 min = 900)."),
            _placeholder(),
            boolean("retroactive", note="A change applies to penalties already computed (the processor recomputes)."),
            boolean("enabled", default=True, note="Disabled rows are ignored (the next less specific rule applies)."),
            readonly(
                timestamp(
                    "superseded_at",
                    note="Set when a rules import replaced this rule's brackets: the row is kept as it was (penalties "
                    "computed from it still point at it) and no longer applies (disabled). Empty: a current row.",
                )
            ),
            readonly(
                string(
                    "summary",
                    max_length=200,
                    width="full",
                    note="Set by the database, e.g. speeding > 20 ≤ 40 km/h over: 2 min [PLACEHOLDER].",
                )
            ),
            text("note", note="Source of the value (rulebook, article), or why it differs."),
            *created_updated(),
        ],
    ),
    Collection(
        "entry_segment_starts",
        "sports_score",
        "When an entry is due to start a segment: its start position and target time. One row per (entry, segment); "
        "materialised when a stage opens, adjusted by timekeepers (manual_override).",
        "{{start_position}} · #{{entry_id.race_number}} · {{target_at}}",
        group="timing",
        sort=2,
        fields=[
            integer("start_position", minimum=1, note="Position in the start order; unique in the segment."),
            timestamp("target_at", note="Target (scheduled) start time."),
            boolean("manual_override", note="Set by a timekeeper: re-materialising the start list leaves it alone."),
            *created_updated(),
        ],
    ),
    Collection(
        "entry_crossings",
        "where_to_vote",
        "An entry passing a geofence or validating a waypoint at a time, written by the processor from positions (or "
        "by a marshal: source manual). Idempotent on (entry, geofence, ts) and (entry, waypoint, ts).",
        "#{{entry_id.race_number}} · {{geofence_id.name}}{{waypoint_id.code}} · {{ts}}",
        group="timing",
        sort=3,
        fields=[
            timestamp("ts", required=True, note="When it was crossed (UTC)."),
            choice("source", CROSSING_SOURCES, default="gps", note="gps: computed by the processor; manual: a marshal."),
            string(
                "device_imei",
                max_length=15,
                regex="^[0-9]{15}$",
                font="monospace",
                message="device_imei: 15 digits",
                note="The device whose positions gave the crossing (positions.device_id).",
            ),
            text("note", note="Manual crossings: who saw it and how."),
            timestamp("created_at", special="date-created", note="Set when the row is written."),
        ],
    ),
    Collection(
        "entry_penalties",
        "report",
        "A penalty of an entry, computed by the processor (proposed) from a formula — kept as it was "
        "(formula_snapshot) with the inputs, so a recompute is reproducible — and reviewed by a race director: "
        "proposed → applied / waived (a waive needs a note; changing the seconds on review too). Penalties of an "
        "official stage are final.",
        "#{{entry_id.race_number}} · {{type}} · {{seconds}} s · {{status}}",
        group="timing",
        sort=4,
        fields=[
            choice("type", list(PENALTY_TYPES), note="What the penalty is for."),
            json_field("formula_snapshot", note="The formula row(s) as they were when the penalty was computed."),
            json_field("inputs", note='What it was computed from, e.g. {"peak_kmh": 87, "limit_kmh": 50, "samples": 4}.'),
            integer("seconds", required=True, minimum=0, note="Penalty in seconds."),
            _colored(
                choice("status", PENALTY_STATUSES, default="proposed", note="proposed → applied / waived."),
                {"proposed": "#FFA439", "applied": "#E35169", "waived": "#A2B5CD"},
            ),
            timestamp("reviewed_at", note="Set by the database when the status changes."),
            text("note", note="Why it was waived or changed (required for a waive)."),
            string(
                "dedupe_key",
                max_length=200,
                font="monospace",
                note="The processor's key for this penalty (e.g. speeding:<zone>:<first ts>); unique per entry, so a "
                "recompute updates instead of duplicating.",
            ),
            *created_updated(),
        ],
    ),
    Collection(
        "stage_results",
        "leaderboard",
        "An entry's result of a stage: elapsed time (the processor), applied penalties, total and ranks overall and in "
        "class (the database keeps them current from results and applied penalties: sort by rank_overall for the "
        "classification). provisional → official when the stage is published (stages.status = official).",
        "{{rank_overall}} · #{{entry_id.race_number}} · {{total_seconds}} s",
        group="timing",
        sort=5,
        fields=[
            integer("elapsed_seconds", minimum=0, note="Elapsed time on the stage in seconds (the processor)."),
            _computed("penalty_seconds", "Sum of the entry's applied penalties on this stage."),
            _computed("total_seconds", "elapsed + penalties."),
            _computed("rank_overall", "Rank on the stage among all entries (ties share a rank)."),
            _computed("rank_class", "Rank on the stage within the entry's class."),
            readonly(
                _colored(
                    choice("status", RESULT_STATUSES, default="provisional", note="Official when the stage is published."),
                    {"provisional": "#FFA439", "official": "#2ECDA7"},
                )
            ),
            readonly(timestamp("published_at", note="When the stage was published (set by the database).")),
            *created_updated(),
        ],
    ),
]

RELATIONS = [
    M2O(
        "penalty_formulas",
        "event_id",
        "events",
        "{{name}}",
        alias="penalty_formulas",
        alias_template="{{summary}}",
        alias_note="Penalty rules of this event.",
        note="The event.",
    ),
    M2O(
        "entry_segment_starts",
        "entry_id",
        "entries",
        "#{{race_number}}",
        alias="segment_starts",
        alias_template="{{segment_id.stage_id.name}} · {{start_position}} · {{target_at}}",
        alias_note="Start slots of this entry.",
        note="The entry.",
    ),
    M2O(
        "entry_segment_starts",
        "segment_id",
        "segments",
        "{{stage_id.name}} · {{sort_order}} {{type}}",
        alias="starts",
        alias_template="{{start_position}} · #{{entry_id.race_number}} · {{target_at}}",
        alias_note="Start list of this segment.",
        note="A segment of the entry's event.",
    ),
    M2O("entry_crossings", "entry_id", "entries", "#{{race_number}}", note="The entry."),
    M2O("entry_crossings", "geofence_id", "geofences", "{{name}}", required=False, note="The geofence crossed (or a waypoint)."),
    M2O("entry_crossings", "waypoint_id", "waypoints", "{{code}} · {{type}}", required=False, note="The waypoint validated."),
    M2O(
        "entry_penalties",
        "entry_id",
        "entries",
        "#{{race_number}}",
        alias="penalties",
        alias_template="{{type}} · {{seconds}} s · {{status}}",
        alias_note="Penalties of this entry.",
        note="The entry.",
    ),
    M2O("entry_penalties", "stage_id", "stages", "{{name}}", required=False, note="The stage (counts in its ranking)."),
    M2O(
        "entry_penalties",
        "formula_id",
        "penalty_formulas",
        "{{summary}}",
        required=False,
        on_delete="SET NULL",
        note="The formula used; a rules re-import supersedes it, never deletes it (cleared only if deleted by hand: "
        "formula_snapshot keeps it).",
    ),
    M2O(
        "entry_penalties",
        "reviewed_by",
        "directus_users",
        "{{first_name}} {{last_name}}",
        required=False,
        note="Who applied or waived it (filled with the current user).",
    ),
    M2O(
        "stage_results",
        "entry_id",
        "entries",
        "#{{race_number}} · {{class_id.code}}",
        alias="results",
        alias_template="{{stage_id.name}} · {{total_seconds}} s · {{rank_overall}}",
        alias_note="Stage results of this entry.",
        note="The entry.",
    ),
    M2O(
        "stage_results",
        "stage_id",
        "stages",
        "{{name}}",
        alias="results",
        alias_template="{{rank_overall}} · #{{entry_id.race_number}} · {{total_seconds}} s · {{status}}",
        alias_note="Results of this stage (sort by rank_overall).",
        note="The stage.",
    ),
]

ORDER = {
    "events": ["penalty_formulas"],
    "stages": ["results"],
    "segments": ["starts"],
    "entries": ["segment_starts", "penalties", "results", "timeline"],  # timeline: registration.py, last on the page
    "penalty_formulas": [
        "id",
        "event_id",
        "summary",
        "type",
        "belongs_to_type",
        "belongs_to_id",
        "waypoint_type",
        "offence_min",
        "offence_max",
        "operator",
        "penalty_seconds",
        "placeholder",
        "retroactive",
        "enabled",
        "superseded_at",
        "note",
        "created_at",
        "updated_at",
    ],
    "entry_segment_starts": [
        "id",
        "entry_id",
        "segment_id",
        "start_position",
        "target_at",
        "manual_override",
        "created_at",
        "updated_at",
    ],
    "entry_crossings": ["id", "entry_id", "geofence_id", "waypoint_id", "ts", "source", "device_imei", "note", "created_at"],
    "entry_penalties": [
        "id",
        "entry_id",
        "stage_id",
        "type",
        "seconds",
        "status",
        "reviewed_by",
        "reviewed_at",
        "note",
        "formula_id",
        "formula_snapshot",
        "inputs",
        "dedupe_key",
        "created_at",
        "updated_at",
    ],
    "stage_results": [
        "id",
        "entry_id",
        "stage_id",
        "elapsed_seconds",
        "penalty_seconds",
        "total_seconds",
        "rank_overall",
        "rank_class",
        "status",
        "published_at",
        "created_at",
        "updated_at",
    ],
}
