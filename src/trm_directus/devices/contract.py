"""The device-command contract, version 1, as the gateway side sees it (extensions/README.md "Device commands").

Directus writes commands to `commands:<instance>` (one stream per gateway instance) for devices whose
session key `device:<IMEI>:session` names that instance; gateways answer on `commands:replies`. The
TypeScript side of the same contract is extensions/trm-operations/src/commands/contract.ts.
"""

from __future__ import annotations

from datetime import UTC, datetime

VERSION = "1"
REPLIES_STREAM = "commands:replies"
GATEWAY_GROUP = "gateway"  # the consumer group a gateway reads its own stream with (resumes after a restart)
SESSION_TTL_SECONDS = 60  # a session key lives this long unless refreshed
DEDUPE_TTL_SECONDS = 86400  # how long a gateway remembers a command id it executed


def session_key(imei: str) -> str:
    return f"device:{imei}:session"


def command_stream(instance: str) -> str:
    return f"commands:{instance}"


def dedupe_key(command_id: str) -> str:
    return f"command:{command_id}:seen"


def reply_fields(command_id: str, instance: str, status: str, answer: str) -> list[str]:
    """A reply entry (XADD commands:replies * …): all values strings, in this order."""
    if status not in ("ack", "nack"):
        raise ValueError(f"status must be ack or nack, not {status!r}")
    answered_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        "version",
        VERSION,
        "command_id",
        command_id,
        "instance",
        instance,
        "status",
        status,
        "answer",
        answer,
        "answered_at",
        answered_at,
    ]
