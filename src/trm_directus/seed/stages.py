"""The course part of a seed event: radius defaults per waypoint type, stages, and their OpenRally GPX files.

In a seed file an event may carry

    radius_defaults: [{type: WPM, open: 800, validation: 90}, ...]
    stages:
      - {name: Prologue, sort_order: 0, kind: prologue, starts_at: ..., course: dir/prologue.gpx}
      - {name: Stage 1, sort_order: 1, start_order_input_stage: Prologue, course: dir/stage-1.gpx}

Validation (with the rest of the document, before anything is written): keys and types, enum
values, validation radius <= opening, one default per type, stage names and sort orders unique in
the event, the start-order input stage is another stage of the file, course files exist (relative
to the seed file). Loading: defaults and stages by natural key — (event, type), (event, name) —
stages in dependency order so that an input stage exists before the stages that name it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..course import radius_defaults
from ..directus.writer import Counts
from ..documents.validation import Path_, Problems, Schema, check_item, iso_datetime, unique
from ..model import course as model

SCHEMAS: dict[str, Schema] = {
    "stage": {
        "name": (str, True, None),
        "sort_order": (int, True, lambda v: None if v >= 0 else "sort_order starts at 0"),
        "kind": (str, False, lambda v: None if v in model.STAGE_KINDS else f"must be one of {', '.join(model.STAGE_KINDS)}"),
        "starts_at": ((str, datetime), False, None),
        "start_interval_seconds": (int, False, lambda v: None if 0 <= v <= 3600 else "between 0 and 3600 seconds"),
        "start_order_strategy": (
            str,
            False,
            lambda v: None if v in model.START_ORDER_STRATEGIES else f"must be one of {', '.join(model.START_ORDER_STRATEGIES)}",
        ),
        "start_order_strategy_params": (dict, False, None),
        "start_order_input_stage": (str, False, None),
        "notes": (str, False, None),
        "course": (str, False, None),
    },
}

STAGE_FIELDS = (
    "sort_order",
    "kind",
    "starts_at",
    "start_interval_seconds",
    "start_order_strategy",
    "start_order_strategy_params",
)


def validate(event: dict[str, Any], path: Path_, problems: Problems, origin: str) -> None:
    """Check an event's radius_defaults and stages; resolve course paths against the seed file's folder
    and check each course file as `course-import` would (with the event's radius defaults)."""
    from ..course import exchange
    from ..errors import CourseError

    radii = radius_defaults.validate(event.get("radius_defaults"), (*path, "radius_defaults"), problems)
    stages = _list(event.get("stages"))
    valid = [
        (s, (*path, "stages", i))
        for i, s in enumerate(stages)
        if check_item(s, "stage", SCHEMAS["stage"], (*path, "stages", i), problems)
    ]
    names = unique([(s.get("name"), (*p, "name")) for s, p in valid], "stage name in this event", problems)
    unique([(s.get("sort_order"), (*p, "sort_order")) for s, p in valid], "stage sort_order in this event", problems)
    base = Path(origin).resolve().parent
    for s, p in valid:
        if s.get("starts_at") is not None and (error := iso_datetime(s["starts_at"])):
            problems.add((*p, "starts_at"), error)
        ref = s.get("start_order_input_stage")
        if isinstance(ref, str) and (ref not in names or ref == s.get("name")):
            problems.add((*p, "start_order_input_stage"), f"{ref!r} is not another stage of this event")
        if isinstance(s.get("course"), str):  # another type was reported by check_item
            file = (base / s["course"]).resolve()
            if not file.is_file():
                problems.add((*p, "course"), f"course file {file} does not exist (paths are relative to the seed file)")
                continue
            s["course"] = str(file)
            try:
                name = s["name"] if isinstance(s.get("name"), str) else None  # a wrong type was reported above
                exchange.read_files([file], name, radii, str(event.get("slug")))
            except CourseError as exc:
                for line in exc.details.splitlines():
                    problems.add((*p, "course"), line.strip())


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dependency_levels(stages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Stages grouped so that every stage comes after the stage it takes its start order from."""
    levels: list[list[dict[str, Any]]] = []
    placed: set[str] = set()
    pending = list(stages)
    while pending:
        ready = [s for s in pending if not s.get("start_order_input_stage") or s["start_order_input_stage"] in placed]
        if not ready:  # a cycle: validation names inputs only; break it rather than loop
            ready = pending
        levels.append(ready)
        placed |= {s["name"] for s in ready}
        pending = [s for s in pending if s not in ready]
    return levels


def load(loader, events: list[dict[str, Any]], event_id) -> None:
    """Sync radius defaults and stages of every event (see the module docstring)."""
    loader.sync(
        radius_defaults.SPEC, [row for e in events for row in radius_defaults.rows(event_id(e), e.get("radius_defaults") or [])]
    )
    for e in events:
        ids: dict[str, Any] = {}
        for level in dependency_levels(e.get("stages") or []):
            rows = []
            for s in level:
                row = {"event_id": event_id(e), "name": s["name"], **{k: s.get(k) for k in STAGE_FIELDS}, "notes": s.get("notes")}
                row["kind"] = row["kind"] or "stage"
                row["start_order_strategy"] = row["start_order_strategy"] or "manual"
                if s.get("start_order_input_stage"):
                    row["start_order_input_stage_id"] = ids[s["start_order_input_stage"]]
                rows.append(row)
            synced = loader.sync("stages", rows)
            ids.update({name: sid for (_, name), sid in synced.items()})


def import_courses(api, events: list[dict[str, Any]], organization_slug, event_id, report, *, dry_run: bool) -> None:
    """Import every stage's course file through `course-import` (one all-or-nothing run per event), last."""
    from .. import console
    from ..course import exchange

    for e in events:
        stages = [s for s in e.get("stages") or [] if s.get("course")]
        if not stages:
            continue
        if dry_run and str(event_id(e)).startswith("new:"):
            console.info(
                f"dry run: {len(stages)} course file(s) of {e['slug']} are valid; their import is planned once the event exists"
            )
            continue
        result = exchange.import_files(
            api,
            [Path(s["course"]) for s in stages],
            f"{organization_slug(e)}/{e['slug']}",
            stage_names=[s["name"] for s in stages],
            dry_run=dry_run,
        )
        for collection, c in result.plan.counts().items():
            if collection == "stages":
                continue  # synced above with their seed values; the import only adds the route
            counts = report.counts.setdefault(collection, Counts())
            counts.created += c["create"]
            counts.updated += c["update"] + c["delete"]
            counts.unchanged += c["unchanged"]


def expected_counts(events: list[dict[str, Any]]) -> dict[str, int]:
    from ..course import exchange

    counts = {
        "waypoint_radius_defaults": sum(len(e.get("radius_defaults") or []) for e in events),
        "stages": sum(len(e.get("stages") or []) for e in events),
        "segments": 0,
        "waypoints": 0,
        "speed_limit_zones": 0,
    }
    for e in events:
        defaults = {d["type"]: (d["open"], d["validation"]) for d in e.get("radius_defaults") or []}
        for s in e.get("stages") or []:
            if s.get("course"):
                stage = exchange.read_files([Path(s["course"])], s["name"], defaults, e["slug"])[0][0]
                n = stage.counts()
                counts["segments"] += n["segments"]
                counts["waypoints"] += n["waypoints"]
                counts["speed_limit_zones"] += n["speed zones"]
    return counts
