"""The organisation catalogue (domain.md "Phase 1"): organisations, their people, vehicles and devices.

How the collections are created through Directus's REST API; the committed artifact is the
captured `snapshots/schema.yaml`. Composite uniques and checks live in db-init/post/101.
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
    timestamp,
)

ORG_ROLES = ["org-admin", "race-director", "marshal", "timekeeper", "participant", "viewer"]
# A membership grants its role only once the person accepted it (consent: issue 21).
MEMBERSHIP_STATUSES = ["invited", "active"]

FOLDER = Folder("catalogue", "inventory_2", "Organisations, their people, vehicles and tracking devices.", 1)

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
            choice(
                "status",
                MEMBERSHIP_STATUSES,
                default="active",
                note="invited: the organisation asked, the person has not accepted yet; the role grants nothing and "
                "the organisation sees no contact details. The person accepts by setting their own membership to "
                "active; a membership an administrator creates starts active (issue 21).",
            ),
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
        alias="memberships",
        alias_template="{{organization_id.name}} · {{role}}",
        alias_note="The organisations this person belongs to, with the org role in each (access rules read it).",
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
        alias="registrations",
        alias_template="{{organization_id.name}}",
        alias_note="The organisations that registered this vehicle (access rules read it).",
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
    M2O(
        "organization_devices",
        "device_id",
        "devices",
        "{{model}} · {{imei}}",
        alias="registrations",
        alias_template="{{organization_id.name}}",
        alias_note="The organisations that own or rent this device (access rules read it).",
        note="The registered device.",
    ),
]

# Field order in the admin UI forms (ids first, relations where a person looks for them).
ORDER = {
    "organizations": ["id", "name", "slug", "members", "vehicles", "devices", "events", "created_at", "updated_at"],
    "organization_users": ["id", "organization_id", "user_id", "role", "status", "created_at"],
    "vehicles": ["id", "make", "model", "year", "cc", "plate", "vin", "registrations", "created_at", "updated_at"],
    "devices": ["id", "imei", "model", "serial_number", "registrations", "created_at", "updated_at"],
    "organization_vehicles": ["id", "organization_id", "vehicle_id", "registered_at"],
    "organization_devices": ["id", "organization_id", "device_id", "registered_at"],
}
