"""Event participation (domain.md "Phase 1"): events, their classes, entries, crews and devices.

How the collections are created through Directus's REST API; the committed artifact is the
captured `snapshots/schema.yaml`. Composite uniques, the class-of-the-same-event foreign key and
checks live in db-init/post/101; cross-field rules that must answer 400 in extensions/trm-integrity.
"""

from __future__ import annotations

from .fields import (
    M2O,
    SLUG_RE,
    Collection,
    Folder,
    choice,
    created_updated,
    integer,
    string,
    text,
    timestamp,
)

DISCIPLINES = ["rally", "time-trial", "regatta", "trail-run", "hike"]
ENTRY_STATUSES = ["registered", "confirmed", "scrutineered", "started", "finished", "retired", "disqualified", "withdrawn"]
DEVICE_PURPOSES = ["chassis", "backup", "panic-button"]
CREW_ROLES = ["pilot", "co-pilot", "navigator", "mechanic", "rider", "runner", "hiker"]

FOLDER = Folder("registration", "flag", "Events, their classes, and the entries registered for them.", 2)


def _timeline() -> dict:
    """The entry's history on its page: a presentation field (no column) shown by trm-operations' interface."""
    note = (
        "What happened to the entry and what hangs off it (crew, devices, penalties, starts, results, faulty flags, "
        "course edits), from Directus's activity: GET /trm/entries/:id/timeline."
    )
    meta = {"interface": "trm-entry-timeline", "special": ["alias", "no-data"], "width": "full", "note": note}
    return {"field": "timeline", "type": "alias", "meta": meta, "schema": None}


COLLECTIONS = [
    Collection(
        "events",
        "emoji_events",
        "A competition of one organisation (e.g. Rally Albania 2026). Its discipline decides which classes, crew "
        "roles and vehicles make sense. ends_at must be after starts_at.",
        "{{name}}",
        group="registration",
        sort=1,
        fields=[
            string("name", required=True, max_length=200, note="e.g. Rally Albania 2026."),
            string(
                "slug",
                required=True,
                max_length=80,
                regex=SLUG_RE,
                font="monospace",
                message="slug: lower-case letters, digits and single dashes, e.g. rally-albania-2026",
                note="Unique within the organisation.",
            ),
            choice("discipline", DISCIPLINES, note="Drives validation of classes, crew roles and vehicles."),
            string(
                "timezone",
                max_length=64,
                regex=r"^[A-Za-z]+(?:/[A-Za-z0-9_+-]+)+$|^UTC$",
                placeholder="Europe/Tirane",
                message="timezone: an IANA name such as Europe/Tirane",
                note="IANA time zone of the event.",
            ),
            timestamp("starts_at", required=True, note="First day (start of the prologue or first stage)."),
            timestamp("ends_at", required=True, note="Last day; must be after starts_at."),
            string(
                "regulation_doc_url",
                max_length=500,
                regex="^https?://",
                width="full",
                message="regulation_doc_url: an http(s) URL",
                note="Supplementary Regulations document.",
            ),
            text("notes", note="Free notes for the organisers."),
            *created_updated(),
        ],
    ),
    Collection(
        "classes",
        "category",
        "Competition classes of an event (e.g. M-1 Moto under 450cc). The code is unique within the event; drag to order.",
        "{{code}} · {{name}}",
        group="registration",
        sort=2,
        sort_field="sort_order",
        fields=[
            string(
                "code",
                required=True,
                max_length=10,
                regex="^[A-Z]{1,3}-[0-9A-Z]{1,3}$",
                font="monospace",
                message="code: letters, a dash, then digits or letters, e.g. M-1, C-A",
                note="Short code shown on results, unique within the event.",
            ),
            string("name", required=True, max_length=120, note="e.g. Moto under 450cc."),
            text("description", note="Eligibility: vehicles, age, gender, experience."),
            integer("sort_order", note="Order of classes in lists and results.", minimum=0),
        ],
    ),
    Collection(
        "entries",
        "confirmation_number",
        "An entry in an event: the unit of timing. Race number unique within the event; the class must belong to the "
        "same event; no vehicle for foot races. Withdrawn entries are archived.",
        "#{{race_number}} · {{class_id.code}} · {{crew.user_id.last_name}}",
        group="registration",
        sort=3,
        archive=("status", "withdrawn", "registered"),
        fields=[
            integer("race_number", required=True, minimum=1, note="Door/plate number, unique within the event."),
            choice(
                "status",
                ENTRY_STATUSES,
                default="registered",
                note="Lifecycle: registered → confirmed → scrutineered → started → finished / retired / "
                "disqualified; withdrawn archives the entry.",
            ),
            text("notes", note="Registration and scrutineering notes."),
            *created_updated(),
            _timeline(),
        ],
    ),
    Collection(
        "entry_crew",
        "groups",
        "The people in an entry with their racing role (what they do in the car). One row per (entry, user).",
        "{{user_id.first_name}} {{user_id.last_name}} · {{role}}",
        group="registration",
        sort=4,
        fields=[choice("role", CREW_ROLES, note="Racing role; must fit the event's discipline.")],
    ),
    Collection(
        "entry_devices",
        "sensors",
        "Devices carried by an entry: chassis tracker, backup, and body-worn panic buttons assigned to a crew member. "
        "One row per (entry, device).",
        "{{device_id.model}} · {{device_id.imei}}",
        group="registration",
        sort=5,
        fields=[
            choice(
                "purpose",
                DEVICE_PURPOSES,
                required=False,
                note="What the device is for; a panic button is assigned to the crew member wearing it.",
            )
        ],
    ),
]

RELATIONS = [
    M2O(
        "events",
        "organization_id",
        "organizations",
        "{{name}}",
        alias="events",
        alias_template="{{name}}",
        alias_note="Events of this organisation.",
        note="The organiser.",
    ),
    M2O(
        "classes",
        "event_id",
        "events",
        "{{name}}",
        alias="classes",
        alias_template="{{code}} · {{name}}",
        alias_note="Classes of this event.",
        note="The event this class belongs to.",
    ),
    M2O(
        "entries",
        "event_id",
        "events",
        "{{name}}",
        alias="entries",
        alias_template="#{{race_number}} · {{class_id.code}}",
        alias_note="Entries of this event.",
        note="The event entered.",
    ),
    M2O("entries", "class_id", "classes", "{{code}} · {{name}}", note="A class of the same event."),
    M2O(
        "entries",
        "vehicle_id",
        "vehicles",
        "{{year}} {{make}} {{model}} · {{plate}}",
        required=False,
        note="Empty for foot races.",
    ),
    M2O(
        "entry_crew",
        "entry_id",
        "entries",
        "#{{race_number}}",
        alias="crew",
        alias_template="{{user_id.first_name}} {{user_id.last_name}} · {{role}}",
        alias_note="Crew of this entry.",
        note="The entry (car, bike, team).",
    ),
    M2O("entry_crew", "user_id", "directus_users", "{{first_name}} {{last_name}}", note="The crew member (a Directus user)."),
    M2O(
        "entry_devices",
        "entry_id",
        "entries",
        "#{{race_number}}",
        alias="devices",
        alias_template="{{device_id.model}} · {{device_id.imei}}",
        alias_note="Devices carried by this entry.",
        note="The entry carrying the device.",
    ),
    M2O(
        "entry_devices",
        "device_id",
        "devices",
        "{{model}} · {{imei}}",
        alias="assignments",
        alias_template="{{entry_id.race_number}} · {{purpose}}",
        alias_note="The entries carrying this device (access rules read it).",
        note="The device, identified by its IMEI.",
    ),
    M2O(
        "entry_devices",
        "assigned_user_id",
        "directus_users",
        "{{first_name}} {{last_name}}",
        required=False,
        on_delete="SET NULL",
        note="Crew member wearing this device (panic button); cleared if the user is deleted.",
    ),
]

# Field order in the admin UI forms (ids first, relations where a person looks for them).
ORDER = {
    "events": [
        "id",
        "organization_id",
        "name",
        "slug",
        "discipline",
        "timezone",
        "starts_at",
        "ends_at",
        "regulation_doc_url",
        "classes",
        "entries",
        "notes",
        "created_at",
        "updated_at",
    ],
    "classes": ["id", "event_id", "code", "name", "description", "sort_order"],
    "entries": [
        "id",
        "event_id",
        "race_number",
        "class_id",
        "vehicle_id",
        "status",
        "crew",
        "devices",
        "notes",
        "created_at",
        "updated_at",
    ],
    "entry_crew": ["id", "entry_id", "user_id", "role"],
    "entry_devices": ["id", "entry_id", "device_id", "purpose", "assigned_user_id"],
}
