"""Seed files: parse, remember where every value is (file:line), validate the whole document.

Validation happens before anything is written: schema (keys, types), enum values, formats,
references between rows (by natural key), uniqueness, and cross-field rules. Every problem is
reported with the file, the line, the path in the document and the reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..documents import yamlio
from ..documents.validation import (
    Path_,
    Problems,
    Schema,
    check_item,
    enum,
    hashable,
    iso_date,
    iso_datetime,
    list_at,
    regex,
    unique,
)
from ..errors import SeedError
from ..model import catalogue, registration
from ..model.fields import SLUG_RE
from . import stages as course

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
CODE_RE = re.compile(r"^[A-Z]{1,3}-[0-9A-Z]{1,3}$")


# Each section: key -> (type, required, check). check(value) returns an error text or None.
def _imei(v: str) -> str | None:
    if not re.fullmatch(r"[0-9]{15}", str(v)):
        return f"an IMEI is exactly 15 digits (got {v!r})"
    digits = [int(c) for c in str(v)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits[:14]))
    return None if (10 - total % 10) % 10 == digits[14] else f"IMEI {v} fails its check digit (Luhn)"


SCHEMAS: dict[str, Schema] = {
    "organization": {
        "slug": (str, True, regex(SLUG_RE, "a slug is lower-case letters, digits and dashes")),
        "name": (str, True, None),
        "members": (list, False, None),
        "vehicles": (list, False, None),
        "devices": (list, False, None),
    },
    "member": {"user": (str, True, None), "role": (str, True, enum(catalogue.ORG_ROLES))},
    "user": {
        "email": (str, True, regex(EMAIL_RE, "not an e-mail address")),
        "first_name": (str, True, None),
        "last_name": (str, True, None),
        "phone": (str, False, regex(r"^\+?[0-9][0-9 ()-]{5,30}$", "not a phone number")),
        "birth_date": ((str, date), False, iso_date),
        "nationality": (str, False, regex(r"^[A-Z]{2}$", "nationality is ISO 3166-1 alpha-2, e.g. AL")),
    },
    "vehicle": {
        "plate": (str, True, None),
        "make": (str, True, None),
        "model": (str, True, None),
        "year": (int, False, lambda v: None if 1900 <= v <= 2100 else "year must be between 1900 and 2100"),
        "cc": (int, False, lambda v: None if v > 0 else "cc must be positive"),
        "vin": (str, False, regex(r"^[A-HJ-NPR-Z0-9]{17}$", "a VIN is 17 characters without I, O, Q")),
    },
    "device": {"imei": ((str, int), True, _imei), "model": (str, True, None), "serial_number": (str, False, None)},
    "event": {
        "organization": (str, True, None),
        "slug": (str, True, regex(SLUG_RE, "a slug is lower-case letters, digits and dashes")),
        "name": (str, True, None),
        "discipline": (str, True, enum(registration.DISCIPLINES)),
        "timezone": (str, False, regex(r"^[A-Za-z]+(?:/[A-Za-z0-9_+-]+)+$|^UTC$", "an IANA time zone, e.g. Europe/Tirane")),
        "starts_at": ((str, datetime), True, iso_datetime),
        "ends_at": ((str, datetime), True, iso_datetime),
        "regulation_doc_url": (str, False, regex(r"^https?://", "an http(s) URL")),
        "notes": (str, False, None),
        "classes": (list, False, None),
        "radius_defaults": (list, False, None),
        "stages": (list, False, None),
        "rules": (str, False, None),
        "entries": (list, False, None),
    },
    "class": {
        "code": (str, True, regex(CODE_RE, "a class code is like M-1 or C-A")),
        "name": (str, True, None),
        "description": (str, False, None),
        "sort_order": (int, False, None),
    },
    "entry": {
        "race_number": (int, True, lambda v: None if v > 0 else "race numbers start at 1"),
        "class": (str, True, None),
        "vehicle": (str, False, None),
        "status": (str, False, enum(registration.ENTRY_STATUSES)),
        "notes": (str, False, None),
        "crew": (list, False, None),
        "devices": (list, False, None),
    },
    "crew": {"user": (str, True, None), "role": (str, True, enum(registration.CREW_ROLES))},
    "entry_device": {
        "imei": ((str, int), True, None),
        "purpose": (str, False, enum(registration.DEVICE_PURPOSES)),
        "assigned_to": (str, False, None),
    },
}
SCHEMAS.update(course.SCHEMAS)
TOP = {"organizations": "organization", "users": "user", "vehicles": "vehicle", "devices": "device", "events": "event"}


def _check(item: Any, kind: str, path: Path_, problems: Problems) -> bool:
    return check_item(item, kind, SCHEMAS[kind], path, problems)


def load(path: Path) -> dict[str, Any]:
    """Read and validate a seed file; raise SeedError listing every problem, or return the document."""
    text = yamlio.read_text(Path(path), error=SeedError, hint="pass the path of a seeds/*.yaml file (UTF-8 text)")
    return parse(text, str(path))


def parse(text: str, origin: str) -> dict[str, Any]:
    doc, lines = yamlio.load_with_lines(text, origin, error=SeedError, hint="fix the YAML; nothing was written")
    check(doc, origin, lines)
    return doc


def check(doc: Any, origin: str, lines: dict[Path_, int] | None = None) -> None:
    """Validate a parsed document; SeedError with every problem as `file:line: path: reason`."""
    problems = Problems(origin, lines or {})
    validate(doc, problems)
    if problems.items:
        ordered = problems.lines()
        raise SeedError(
            f"{origin}: {len(ordered)} problem(s); nothing was written",
            "fix the file and run the seed again",
            details="\n".join(f"  {p}" for p in ordered),
        )


def validate(doc: Any, problems: Problems) -> None:
    if not isinstance(doc, dict):
        problems.add((), "a seed file is a mapping with organizations, users, vehicles, devices, events")
        return
    for key in doc:
        if key not in TOP:
            problems.add((key,), f"unknown section (known: {', '.join(TOP)})")
    sections: dict[str, list[tuple[dict, Path_]]] = {}
    for section, kind in TOP.items():
        items = doc.get(section)
        items = [] if items is None else items
        if not isinstance(items, list):
            problems.add((section,), "expected a list")
            items = []
        sections[section] = [(item, (section, i)) for i, item in enumerate(items) if _check(item, kind, (section, i), problems)]

    orgs = unique([(o["slug"], (*p, "slug")) for o, p in sections["organizations"] if "slug" in o], "organization slug", problems)
    emails = unique(
        [(u["email"].lower(), (*p, "email")) for u, p in sections["users"] if isinstance(u.get("email"), str)],
        "user email",
        problems,
    )
    plates = unique([(v["plate"], (*p, "plate")) for v, p in sections["vehicles"] if "plate" in v], "vehicle plate", problems)
    imeis = unique([(str(d["imei"]), (*p, "imei")) for d, p in sections["devices"] if "imei" in d], "device IMEI", problems)

    def ref(value: Any, known: set, what: str, path: Path_) -> None:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return  # a wrong type: reported where the value's type is checked
        key = value.lower() if what == "user" and isinstance(value, str) else (str(value) if what == "device" else value)
        if key not in known:
            problems.add(path, f"unknown {what} {value!r}: declare it under {what}s first")

    for org, path in sections["organizations"]:
        for part, kind, what, known, key in (("members", "member", "user", emails, "user"),):
            rows = list_at(org, part)
            for i, m in enumerate(rows):
                if _check(m, kind, (*path, part, i), problems) and key in m:
                    ref(m[key], known, what, (*path, part, i, key))
            unique(
                [(str(m.get("user", "")).lower(), (*path, part, i, "user")) for i, m in enumerate(rows) if isinstance(m, dict)],
                "member",
                problems,
            )
        for part, known, what in (("vehicles", plates, "vehicle"), ("devices", imeis, "device")):
            rows = list_at(org, part)
            for i, value in enumerate(rows):
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    problems.add((*path, part, i), f"expected a {what} reference (text), got {type(value).__name__} {value!r}")
                ref(value, known, what, (*path, part, i))
            unique([(str(v), (*path, part, i)) for i, v in enumerate(rows)], what, problems)

    unique(
        [((e.get("organization"), e.get("slug")), (*p, "slug")) for e, p in sections["events"]],
        "event (organization, slug)",
        problems,
    )
    for event, path in sections["events"]:
        if hashable(event.get("organization")) and "organization" in event and event["organization"] not in orgs:
            problems.add(
                (*path, "organization"), f"unknown organization {event['organization']!r}: declare it under organizations"
            )
        dates_valid = all(k in event and not iso_datetime(event[k]) for k in ("starts_at", "ends_at"))
        if dates_valid and _as_datetime(event["ends_at"]) <= _as_datetime(event["starts_at"]):
            problems.add((*path, "ends_at"), "ends_at must be after starts_at")
        classes = list_at(event, "classes")
        for i, c in enumerate(classes):
            _check(c, "class", (*path, "classes", i), problems)
        codes = unique(
            [(c.get("code"), (*path, "classes", i, "code")) for i, c in enumerate(classes) if isinstance(c, dict)],
            "class code in this event",
            problems,
        )
        course.validate(event, path, problems, problems.origin)
        if isinstance(event.get("rules"), str):
            from ..rules import seeding

            seeding.validate_reference(event, (*path, "rules"), problems)
        entries = list_at(event, "entries")
        valid_entries = [
            (e, (*path, "entries", i)) for i, e in enumerate(entries) if _check(e, "entry", (*path, "entries", i), problems)
        ]
        unique([(e.get("race_number"), (*p, "race_number")) for e, p in valid_entries], "race number in this event", problems)
        for entry, epath in valid_entries:
            if "class" in entry and hashable(entry["class"]) and entry["class"] not in codes:
                problems.add((*epath, "class"), f"unknown class {entry['class']!r} in event {event.get('slug')!r}")
            if entry.get("vehicle") is not None:
                ref(entry["vehicle"], plates, "vehicle", (*epath, "vehicle"))
            crew = list_at(entry, "crew")
            crew_emails = set()
            for i, member in enumerate(crew):
                if _check(member, "crew", (*epath, "crew", i), problems) and "user" in member:
                    ref(member["user"], emails, "user", (*epath, "crew", i, "user"))
                    crew_emails.add(str(member["user"]).lower())
            unique(
                [
                    (str(m.get("user", "")).lower(), (*epath, "crew", i, "user"))
                    for i, m in enumerate(crew)
                    if isinstance(m, dict)
                ],
                "crew member",
                problems,
            )
            devices = list_at(entry, "devices")
            for i, dev in enumerate(devices):
                dpath = (*epath, "devices", i)
                if not _check(dev, "entry_device", dpath, problems):
                    continue
                if "imei" in dev:
                    ref(dev["imei"], imeis, "device", (*dpath, "imei"))
                if dev.get("assigned_to") is not None and str(dev["assigned_to"]).lower() not in crew_emails:
                    problems.add((*dpath, "assigned_to"), f"{dev['assigned_to']!r} is not in this entry's crew")
            unique(
                [(str(d.get("imei")), (*epath, "devices", i, "imei")) for i, d in enumerate(devices) if isinstance(d, dict)],
                "device in this entry",
                problems,
            )


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
