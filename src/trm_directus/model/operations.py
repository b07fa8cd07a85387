"""Operations on devices during an event (issue 28): commands to trackers and the kinds of command.

A race director or marshal asks a tracker for a fix (`getgps`), its status (`getinfo`), to switch an
output (`setdigout`) or to report at another period (`setperiod`). A command row is routed through
Redis to the ingestion gateway holding the device's TCP session and comes back acknowledged,
refused by the device, timed out, or failed (extensions/trm-operations/src/commands, the contract in
extensions/README.md "Device commands"). Kinds are data: each row says which parameters its
commands take (a JSON Schema subset) and how long the device has to answer; the default kinds are
inserted by db-init/post/111 and may be edited by administrators.
"""

from __future__ import annotations

from typing import Any

from .fields import M2O, Collection, Folder, boolean, choice, integer, json_field, string, string_pk, text, timestamp

COMMAND_STATUSES = ["queued", "sent", "acked", "nacked", "timed_out", "failed"]
STATUS_LABELS = {
    "queued": "queued",
    "sent": "sent to the gateway",
    "acked": "acknowledged",
    "nacked": "refused by the device",
    "timed_out": "timed out",
    "failed": "failed",
}
STATUS_COLORS = {
    "queued": "#A2B5CD",
    "sent": "#3399FF",
    "acked": "#2ECDA7",
    "nacked": "#E35169",
    "timed_out": "#FFA439",
    "failed": "#E35169",
}
KIND_CODE_RE = "^[a-z][a-z0-9_]{1,39}$"

FOLDER = Folder("operations", "settings_remote", "What operators do to devices during an event: commands and their kinds.", 5)


def _status() -> dict[str, Any]:
    f = choice(
        "status",
        COMMAND_STATUSES,
        default="queued",
        labels=STATUS_LABELS,
        note="queued → sent → acked | nacked | timed_out; failed when no gateway holds the device or it was never "
        "delivered. Written by the system, not by people.",
    )
    for c in f["meta"]["display_options"]["choices"]:
        c.update(foreground="#FFFFFF", background=STATUS_COLORS[c["value"]])
    f["meta"]["readonly"] = True
    return f


def _system_time(name: str, note: str) -> dict[str, Any]:
    f = timestamp(name, note=note)
    f["meta"]["readonly"] = True
    return f


COLLECTIONS = [
    Collection(
        "command_kinds",
        "terminal",
        "The commands a tracker may be sent, with the parameters each takes (a JSON Schema subset: type, properties, "
        "required, additionalProperties, minimum, maximum, pattern, enum, items, minItems, maxItems, maxLength) "
        "and the seconds the device has to answer. Reference data, edited by administrators.",
        "{{code}} · {{name}}",
        group="operations",
        sort=2,
        primary=string_pk(
            "code",
            note="What the API and the gateway call it, e.g. getgps.",
            regex=KIND_CODE_RE,
            message="code: lower-case letters, digits and underscores, starting with a letter",
        ),
        fields=[
            string("name", required=True, max_length=120, note="What an operator reads, e.g. Ask for a position."),
            text("description", note="What the device does, and what its answer says."),
            json_field("parameters_schema", note="The parameters a command of this kind takes (JSON Schema subset)."),
            integer(
                "timeout_seconds",
                required=True,
                minimum=5,
                maximum=3600,
                default=60,
                note="A command without an answer after this long becomes timed_out.",
            ),
            boolean("enabled", default=True, note="Disabled kinds are refused for new commands."),
        ],
    ),
    Collection(
        "commands",
        "send_to_mobile",
        "A command to one tracker, routed through Redis to the gateway holding the device's session. Created by a "
        "marshal, race director or org admin of an organisation holding the device; everything after that is written "
        "by the system (status, times, answer).",
        "{{kind}} · {{device_id.imei}} · {{status}}",
        group="operations",
        sort=1,
        fields=[
            json_field("parameters", note="As the kind's parameters_schema says (empty for getgps and getinfo)."),
            _status(),
            timestamp("queued_at", special="date-created", note="When the command was created (queued)."),
            _system_time("sent_at", "When it was handed to the gateway (its stream)."),
            _system_time("acked_at", "When the device acknowledged it."),
            _system_time("nacked_at", "When the device refused it."),
            _system_time("timed_out_at", "When its kind's timeout ran out without an answer."),
            _system_time("failed_at", "When it could not be delivered (no gateway holds the device, or never delivered)."),
            text("answer", note="The device's answer, as the gateway reported it."),
            text("failure_reason", note="Why it failed or timed out."),
            string("gateway_instance", max_length=120, note="The gateway instance that held the device's session."),
            integer("attempts", default=0, note="How many times delivery to Redis was tried."),
            string("stream_id", max_length=40, note="Its entry in the gateway's stream (Redis XADD id)."),
        ],
    ),
]
for _f in COLLECTIONS[1].fields:
    if _f["field"] in ("attempts", "stream_id", "gateway_instance", "answer", "failure_reason"):
        _f["meta"]["readonly"] = True

RELATIONS = [
    M2O(
        "commands",
        "device_id",
        "devices",
        "{{model}} · {{imei}}",
        alias="commands",
        alias_template="{{kind}} · {{status}} · {{queued_at}}",
        alias_note="Commands sent to this device.",
        note="The tracker to command.",
        indexed=True,
    ),
    M2O(
        "commands",
        "kind",
        "command_kinds",
        "{{code}} · {{name}}",
        alias="commands",
        alias_template="{{device_id.imei}} · {{status}}",
        alias_note="Commands of this kind.",
        note="What to ask the device (command_kinds).",
        key_length=40,
        label="Kind",
    ),
    M2O(
        "commands",
        "requested_by",
        "directus_users",
        "{{first_name}} {{last_name}}",
        required=False,
        on_delete="SET NULL",
        note="Who asked (set by Directus).",
        special=("user-created",),
    ),
]

ORDER = {
    "command_kinds": ["code", "name", "description", "parameters_schema", "timeout_seconds", "enabled", "commands"],
    "commands": [
        "id",
        "device_id",
        "kind",
        "parameters",
        "status",
        "requested_by",
        "queued_at",
        "sent_at",
        "acked_at",
        "nacked_at",
        "timed_out_at",
        "failed_at",
        "answer",
        "failure_reason",
        "gateway_instance",
        "attempts",
        "stream_id",
    ],
    "devices": ["commands"],
}
