"""Phase 1 data model (domain.md): the organisation catalogue and event participation.

This is how the collections were created through Directus's REST API; the committed artifact is
the captured `snapshots/schema.yaml`. What Directus cannot express (composite uniques, the
class-of-the-same-event rule, checks) lives in db-init/post/; cross-field rules that must answer
with a client error live in the trm-integrity extension.
"""

from __future__ import annotations

from .fields import (
    M2O,
    SLUG_RE,
    Collection,
    Folder,
    choice,
    created_updated,
    date,
    integer,
    string,
    text,
    timestamp,
)

ORG_ROLES = ["org-admin", "race-director", "marshal", "timekeeper", "participant", "viewer"]
DISCIPLINES = ["rally", "time-trial", "regatta", "trail-run", "hike"]
ENTRY_STATUSES = ["registered", "confirmed", "scrutineered", "started", "finished", "retired", "disqualified", "withdrawn"]
DEVICE_PURPOSES = ["chassis", "backup", "panic-button"]
CREW_ROLES = ["pilot", "co-pilot", "navigator", "mechanic", "rider", "runner", "hiker"]

FOLDERS = [
    Folder("catalogue", "inventory_2", "Organisations, their people, vehicles and tracking devices.", 1),
    Folder("registration", "flag", "Events, their classes, and the entries registered for them.", 2),
]

USER_FIELDS = [
    string(
        "phone",
        note="International format, e.g. +355 69 123 4567.",
        max_length=32,
        regex=r"^\+?[0-9][0-9 ()-]{5,30}$",
        message="phone: digits, spaces, ( ) and - only, optionally starting with +",
        placeholder="+355 69 123 4567",
    ),
    date("birth_date", note="Needed for age-based classes (Senior, Veteran)."),
    string(
        "nationality",
        note="ISO 3166-1 alpha-2 country code, upper case (AL, IT, DE).",
        max_length=2,
        regex="^[A-Z]{2}$",
        message="nationality: two upper-case letters (ISO 3166-1 alpha-2), e.g. AL",
        placeholder="AL",
        font="monospace",
    ),
]

COLLECTIONS = [
    Collection(
        "organizations",
        "corporate_fare",
        "Organisers (clubs, federations). Every business row is reachable from one organisation; access is "
        "isolated per organisation through organization_users.",
        "{{name}}",
        group="catalogue",
        sort=1,
        fields=[
            string("name", required=True, max_length=200, width="half", note="Display name, e.g. Motorsport Club Albania."),
            string(
                "slug",
                required=True,
                unique=True,
                max_length=80,
                regex=SLUG_RE,
                font="monospace",
                message="slug: lower-case letters, digits and single dashes, e.g. msc-albania",
                note="Stable identifier used in URLs and seeds (lower-case, dashes).",
            ),
            *created_updated(),
        ],
    ),
    Collection(
        "organization_users",
        "badge",
        "Membership of a person in an organisation, with their org role (what they may do there). One row per "
        "(organisation, user).",
        "{{user_id.first_name}} {{user_id.last_name}} · {{role}}",
        group="catalogue",
        sort=2,
        fields=[
            choice("role", ORG_ROLES, note="What this person may do in the organisation (policies, Phase 4)."),
            timestamp("created_at", special="date-created"),
        ],
    ),
    Collection(
        "vehicles",
        "directions_car",
        "Cars, motorbikes, quads and SSVs. Linked to organisations through organization_vehicles and to entries.",
        "{{year}} {{make}} {{model}} · {{plate}}",
        group="catalogue",
        sort=3,
        fields=[
            string("make", required=True, max_length=80, note="Manufacturer, e.g. Toyota."),
            string("model", required=True, max_length=120, note="Model, e.g. Land Cruiser 70."),
            integer("year", minimum=1900, maximum=2100, note="Model year."),
            integer("cc", minimum=1, note="Engine displacement in cm³ (classes depend on it)."),
            string(
                "vin",
                max_length=17,
                regex="^[A-HJ-NPR-Z0-9]{17}$",
                font="monospace",
                message="vin: 17 characters, digits and capitals without I, O, Q",
                note="Vehicle identification number.",
            ),
            string("plate", max_length=20, note="Registration plate, e.g. AA-001-AA.", font="monospace"),
            *created_updated(),
        ],
    ),
    Collection(
        "devices",
        "gps_fixed",
        "GPS trackers and panic buttons. The IMEI is the canonical id: positions.device_id holds it.",
        "{{model}} · {{imei}}",
        group="catalogue",
        sort=4,
        fields=[
            string(
                "imei",
                required=True,
                unique=True,
                max_length=15,
                regex="^[0-9]{15}$",
                font="monospace",
                message="imei: exactly 15 digits",
                note="15-digit IMEI; the processor matches positions by it.",
            ),
            string("model", required=True, max_length=80, placeholder="Teltonika FMB920", note="Device model."),
            string("serial_number", max_length=60, font="monospace", note="Manufacturer serial number, if different."),
            *created_updated(),
        ],
    ),
    Collection(
        "organization_vehicles",
        "garage",
        "Junction: which vehicles an organisation has registered. One row per (organisation, vehicle).",
        "{{organization_id.name}} · {{vehicle_id.make}} {{vehicle_id.model}}",
        group="catalogue",
        sort=5,
        fields=[timestamp("registered_at", special="date-created", note="When the vehicle was registered.")],
    ),
    Collection(
        "organization_devices",
        "settings_input_antenna",
        "Junction: which devices an organisation owns or rents. One row per (organisation, device).",
        "{{organization_id.name}} · {{device_id.imei}}",
        group="catalogue",
        sort=6,
        fields=[timestamp("registered_at", special="date-created", note="When the device was registered.")],
    ),
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
        "organization_users",
        "organization_id",
        "organizations",
        "{{name}}",
        alias="members",
        alias_template="{{user_id.first_name}} {{user_id.last_name}} · {{role}}",
        alias_note="People of this organisation.",
        note="The organisation this person belongs to.",
    ),
    M2O(
        "organization_users",
        "user_id",
        "directus_users",
        "{{first_name}} {{last_name}} ({{email}})",
        note="The person (a Directus user).",
    ),
    M2O(
        "organization_vehicles",
        "organization_id",
        "organizations",
        "{{name}}",
        alias="vehicles",
        alias_template="{{vehicle_id.make}} {{vehicle_id.model}} · {{vehicle_id.plate}}",
        alias_note="Registered vehicles.",
        note="The organisation registering the vehicle.",
    ),
    M2O(
        "organization_vehicles",
        "vehicle_id",
        "vehicles",
        "{{year}} {{make}} {{model}} · {{plate}}",
        note="The registered vehicle.",
    ),
    M2O(
        "organization_devices",
        "organization_id",
        "organizations",
        "{{name}}",
        alias="devices",
        alias_template="{{device_id.model}} · {{device_id.imei}}",
        alias_note="Registered devices.",
        note="The organisation owning or renting the device.",
    ),
    M2O("organization_devices", "device_id", "devices", "{{model}} · {{imei}}", note="The registered device."),
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
    M2O("entry_devices", "device_id", "devices", "{{model}} · {{imei}}", note="The device, identified by its IMEI."),
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
    "organizations": ["id", "name", "slug", "members", "vehicles", "devices", "events", "created_at", "updated_at"],
    "organization_users": ["id", "organization_id", "user_id", "role", "created_at"],
    "vehicles": ["id", "make", "model", "year", "cc", "plate", "vin", "created_at", "updated_at"],
    "devices": ["id", "imei", "model", "serial_number", "created_at", "updated_at"],
    "organization_vehicles": ["id", "organization_id", "vehicle_id", "registered_at"],
    "organization_devices": ["id", "organization_id", "device_id", "registered_at"],
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


def build(api):
    """Create/update the Phase 1 model on a running Directus (see builder.build)."""
    from .builder import build as build_model

    return build_model(api, folders=FOLDERS, collections=COLLECTIONS, user_fields=USER_FIELDS, relations=RELATIONS, order=ORDER)
