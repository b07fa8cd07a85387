"""An event's radius defaults per waypoint type (`radius_defaults: [{type: WPM, open: 800, validation: 90}]`),
as seed files and rules files both carry them: their checks and how they are written."""

from __future__ import annotations

from typing import Any

from ..directus.writer import Spec
from ..documents.validation import Path_, Problems, Schema, check_item, unique
from ..model import course as model

SCHEMA: Schema = {
    "type": (str, True, lambda v: None if v in model.WAYPOINT_TYPES else f"must be one of {', '.join(model.WAYPOINT_TYPES)}"),
    "open": (int, True, lambda v: None if v > 0 else "radii are positive metres"),
    "validation": (int, True, lambda v: None if v > 0 else "radii are positive metres"),
}
RADII = ("open_radius_m", "validation_radius_m")
SPEC = Spec("waypoint_radius_defaults", "/items/waypoint_radius_defaults", ("event_id", "waypoint_type"), RADII)


def validate(items: Any, path: Path_, problems: Problems) -> dict[str, tuple[int, int]]:
    """Check the list at `path` (anything but a list was reported with its parent's types): keys and types,
    one default per type, validation radius <= opening. Returns type -> (open, validation) of the usable ones."""
    defaults = items if isinstance(items, list) else []
    valid = [(d, (*path, i)) for i, d in enumerate(defaults) if check_item(d, "radius_default", SCHEMA, (*path, i), problems)]
    unique([(d.get("type"), (*p, "type")) for d, p in valid], "radius default type in this event", problems)
    for d, p in valid:
        if isinstance(d.get("open"), int) and isinstance(d.get("validation"), int) and d["validation"] > d["open"]:
            problems.add(
                (*p, "validation"), f"validation radius {d['validation']} m is larger than the opening radius {d['open']} m"
            )
    return {
        d["type"]: (d["open"], d["validation"])
        for d, _ in valid
        if isinstance(d.get("type"), str) and all(isinstance(d.get(k), int) for k in ("open", "validation"))
    }


def rows(event_id: Any, defaults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The waypoint_radius_defaults rows of an event's validated defaults."""
    return [
        {"event_id": event_id, "waypoint_type": d["type"], "open_radius_m": d["open"], "validation_radius_m": d["validation"]}
        for d in defaults
    ]
