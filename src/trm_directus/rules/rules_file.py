"""An event's rules file (rules-import): parse and validate it, every problem with file:line, before any write.

    event: rally-albania-2026          # optional; must match --event (or the seed's event)
    placeholder: true                  # default of every formula: reference values, not yet the regulation
    formulas:
      - {type: missed_waypoint, minutes: 15}                       # flat, attached to the event
      - {type: missed_waypoint, waypoint_type: WPN, minutes: 60}   # flat, waypoints of one type
      - type: speeding                                             # brackets: over < offence <= up_to
        at: {stage: Stage 3 Shkodër – Kukës}                       # or {stage, segment: N [, waypoint: CODE | speed_zone: NAME]}
        brackets: [{over: 0, up_to: 20, minutes: 1}, {over: 20, up_to: 40, minutes: 2}, {over: 40, minutes: 3}]
    radius_defaults: [{type: WPM, open: 800, validation: 90}]       # as in a seed file (seed/stages.py)
    maximum_times: [{stage: Stage 1 Durrës – Shkodër, segment: 2, max_minutes: 330, target_minutes: 240}]

Checked here: keys and types, unknown types / operators / waypoint types, negative values, one of
seconds / minutes, brackets sorted without overlap or gap and only the last open-ended, one rule per
(type, attachment, waypoint type), radius defaults as a seed's, one maximum time per segment, and
(when the caller knows them) stage names. rules_load.py resolves the rest against Directus.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..course import radius_defaults
from ..documents import yamlio
from ..documents.validation import Path_, Problems, Schema, check_item, fmt_path, unique
from ..errors import RulesError
from ..model import course as course_model
from ..model import timing as model

ATTACH_KEYS = ("stage", "segment", "waypoint", "speed_zone")


def _non_negative(v: Any) -> str | None:
    return None if v >= 0 else "must not be negative"


def _choice(values: list[str], what: str):
    return lambda v: None if v in values else f"unknown {what} {v!r} (known: {', '.join(values)})"


NUMBER = (int, float)
SCHEMAS: dict[str, Schema] = {
    "rules_file": {
        "event": (str, False, None),
        "placeholder": (bool, False, None),
        "formulas": (list, False, None),
        "radius_defaults": (list, False, None),
        "maximum_times": (list, False, None),
    },
    "formula": {
        "type": (str, True, _choice(list(model.PENALTY_TYPES), "penalty type")),
        "at": ((str, dict), False, None),
        "waypoint_type": (str, False, _choice(course_model.WAYPOINT_TYPES, "waypoint type")),
        "operator": (str, False, _choice(model.OPERATORS, "operator")),
        "seconds": (int, False, _non_negative),
        "minutes": (NUMBER, False, _non_negative),
        "brackets": (list, False, None),
        "placeholder": (bool, False, None),
        "retroactive": (bool, False, None),
        "enabled": (bool, False, None),
        "note": (str, False, None),
    },
    "bracket": {
        "over": (int, True, _non_negative),
        "up_to": (int, False, _non_negative),
        "seconds": (int, False, _non_negative),
        "minutes": (NUMBER, False, _non_negative),
        "operator": (str, False, _choice(model.OPERATORS, "operator")),
    },
    "attachment": {
        "stage": (str, True, None),
        "segment": (int, False, _non_negative),
        "waypoint": (str, False, None),
        "speed_zone": (str, False, None),
    },
    "maximum_time": {
        "stage": (str, True, None),
        "segment": (int, True, _non_negative),
        "max_minutes": (int, True, lambda v: None if v > 0 else "must be positive"),
        "target_minutes": (int, False, lambda v: None if v > 0 else "must be positive"),
    },
}


def _check(item: Any, kind: str, path: Path_, problems: Problems) -> bool:
    return check_item(item, kind, SCHEMAS[kind], path, problems)


@dataclass
class Rule:
    """One rule of the file: its attachment by natural keys and its rows (one flat row or brackets, ascending)."""

    type: str
    at: dict[str, Any]  # {} = the event; else stage [, segment [, waypoint | speed_zone]]
    waypoint_type: str | None
    rows: list[dict[str, Any]]  # offence_min, offence_max, operator, penalty_seconds
    values: dict[str, Any]  # placeholder, retroactive, enabled, note
    path: Path_ = ()

    @property
    def kind(self) -> str:
        if "speed_zone" in self.at:
            return "speed_limit_zone"
        for k in ("waypoint", "segment", "stage"):
            if k in self.at:
                return k
        return "event"

    def label(self) -> str:
        where = " / ".join(f"{k} {v}" for k, v in self.at.items()) or "event"
        return f"{self.type}{' ' + self.waypoint_type if self.waypoint_type else ''} at {where}"


@dataclass
class RulesDoc:
    origin: str
    event: str | None
    rules: list[Rule] = field(default_factory=list)
    radius_defaults: list[dict[str, Any]] = field(default_factory=list)
    maximum_times: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> str:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return f"{self.origin}:{self.lines[path[:n]]}"
        return f"{self.origin}:?"

    def row_counts(self) -> dict[str, int]:
        return {
            "penalty_formulas": sum(len(r.rows) for r in self.rules),
            "waypoint_radius_defaults": len(self.radius_defaults),
            "segments": len(self.maximum_times),
        }


def _seconds(item: dict[str, Any], path: Path_, problems: Problems, *, required: bool) -> int | None:
    if "seconds" in item and "minutes" in item:
        problems.add(path, "give the penalty in seconds or in minutes, not both")
        return None
    if "minutes" in item and isinstance(item["minutes"], NUMBER) and not isinstance(item["minutes"], bool):
        seconds = item["minutes"] * 60
        if seconds != int(seconds):
            problems.add((*path, "minutes"), f"{item['minutes']} minutes is not a whole number of seconds")
            return None
        return int(seconds)
    if isinstance(item.get("seconds"), int) and not isinstance(item["seconds"], bool):
        return item["seconds"]
    if required and "seconds" not in item and "minutes" not in item:
        problems.add(path, "the penalty is missing: give seconds or minutes")
    return None


def _attachment(value: Any, path: Path_, problems: Problems) -> dict[str, Any] | None:
    if value is None or value == "event":
        return {}
    if isinstance(value, str):
        problems.add(path, f"`at` is `event` or a mapping with {', '.join(ATTACH_KEYS)} (got {value!r})")
        return None
    if not _check(value, "attachment", path, problems):
        return None
    at = {k: value[k] for k in ATTACH_KEYS if value.get(k) is not None}
    if ("waypoint" in at or "speed_zone" in at) and "segment" not in at:
        problems.add(path, "a waypoint or speed zone is named within a segment: give `segment` (its sort order) too")
        return None
    if "waypoint" in at and "speed_zone" in at:
        problems.add(path, "attach a formula to a waypoint or to a speed zone, not both")
        return None
    return at


def _brackets(items: list[Any], path: Path_, problems: Problems, operator: str) -> list[dict[str, Any]] | None:
    rows: list[tuple[dict[str, Any], Path_]] = []
    for i, b in enumerate(items):
        bpath = (*path, i)
        if not _check(b, "bracket", bpath, problems):
            continue
        seconds = _seconds(b, bpath, problems, required=True)
        lo, hi = b.get("over"), b.get("up_to")
        if isinstance(lo, int) and isinstance(hi, int) and hi <= lo:
            problems.add((*bpath, "up_to"), f"up_to {hi} must be above over {lo}")
            continue
        if seconds is not None and isinstance(lo, int):
            row = {"offence_min": lo, "offence_max": hi, "operator": b.get("operator", operator), "penalty_seconds": seconds}
            rows.append((row, bpath))
    if not items:
        problems.add(path, "a bracket rule needs at least one bracket")
    if len(rows) != len(items):
        return None
    ordered = sorted(rows, key=lambda r: r[0]["offence_min"])
    ok = True
    for (prev, _), (cur, cpath) in itertools.pairwise(ordered):
        lo, hi = prev["offence_min"], prev["offence_max"]
        if hi is None:
            problems.add(cpath, f"bracket (> {lo}) has no upper bound (up_to) but bracket (> {cur['offence_min']}) follows it")
        elif cur["offence_min"] < hi:
            problems.add(cpath, f"brackets (> {lo} ≤ {hi}) and (> {cur['offence_min']}) overlap")
        elif cur["offence_min"] > hi:
            problems.add(
                cpath, f"gap: offences in ({hi}, {cur['offence_min']}] have no penalty (over must equal the previous up_to)"
            )
        else:
            continue
        ok = False
    return [r for r, _ in ordered] if ok else None


def validate(doc: Any, problems: Problems, *, stages: set[str] | None = None, event: str | None = None) -> RulesDoc | None:
    """Check a parsed rules file; `stages` (names) and `event` (slug) when the caller knows them."""
    out = RulesDoc(problems.origin, None, lines=problems.where)
    if not _check(doc, "rules_file", (), problems):
        return None
    out.event = doc.get("event")
    if event is not None and out.event is not None and out.event != event:
        problems.add(("event",), f"this file is for event {out.event!r}, not {event!r}")
    default_placeholder = doc.get("placeholder", False)
    seen: dict[tuple, Path_] = {}
    for i, f in enumerate(doc.get("formulas") or []):
        path = ("formulas", i)
        if not _check(f, "formula", path, problems):
            continue
        at = _attachment(f.get("at"), (*path, "at"), problems)
        wtype = f.get("waypoint_type")
        if wtype is not None and (
            f.get("type") != "missed_waypoint" or (at is not None and ("waypoint" in at or "speed_zone" in at))
        ):
            problems.add(
                (*path, "waypoint_type"), "waypoint_type is for missed_waypoint rules of the event, a stage or a segment"
            )
        operator = f.get("operator", "flat")
        if isinstance(f.get("brackets"), list):
            if "seconds" in f or "minutes" in f:
                problems.add(path, "a bracket rule gives its penalties in its brackets, not in the rule")
            rows = _brackets(f["brackets"], (*path, "brackets"), problems, operator)
        elif f.get("brackets") is not None:
            continue  # not a list: reported by the schema check
        else:
            seconds = _seconds(f, path, problems, required=True)
            rows = (
                None
                if seconds is None
                else [{"offence_min": None, "offence_max": None, "operator": operator, "penalty_seconds": seconds}]
            )
        if at is None or rows is None or "type" not in f:
            continue
        if stages is not None and "stage" in at and at["stage"] not in stages:
            problems.add((*path, "at", "stage"), f"unknown stage {at['stage']!r} (known: {', '.join(sorted(stages))})")
        key = (f["type"], tuple(sorted(at.items())), wtype)
        if key in seen:
            problems.add(path, f"duplicate rule {f['type']} {wtype or ''} at the same place (first at {fmt_path(seen[key])})")
            continue
        seen[key] = path
        values = {
            "placeholder": f.get("placeholder", default_placeholder),
            "retroactive": f.get("retroactive", False),
            "enabled": f.get("enabled", True),
            "note": f.get("note"),
        }
        out.rules.append(Rule(f["type"], at, wtype, rows, values, path))
    before = len(problems.items)
    radius_defaults.validate(doc.get("radius_defaults"), ("radius_defaults",), problems)
    if len(problems.items) == before:
        out.radius_defaults = list(doc.get("radius_defaults") or [])
    keys = []
    for i, m in enumerate(doc.get("maximum_times") or []):
        path = ("maximum_times", i)
        if not _check(m, "maximum_time", path, problems):
            continue
        if (
            isinstance(m.get("target_minutes"), int)
            and isinstance(m.get("max_minutes"), int)
            and m["target_minutes"] > m["max_minutes"]
        ):
            problems.add(
                (*path, "target_minutes"), f"target {m['target_minutes']} min is above the maximum {m['max_minutes']} min"
            )
        if stages is not None and m.get("stage") not in stages:
            problems.add((*path, "stage"), f"unknown stage {m.get('stage')!r} (known: {', '.join(sorted(stages))})")
        keys.append(((m.get("stage"), m.get("segment")), (*path, "segment")))
        out.maximum_times.append({**m, "path": path})
    unique(keys, "maximum time for (stage, segment)", problems)
    return out


def parse(
    text: str, origin: str, *, stages: set[str] | None = None, event: str | None = None
) -> tuple[RulesDoc | None, Problems]:
    """Parse (strictly, yamlio) and validate; the problems (file:line: path: reason) are returned, not raised.
    Not valid YAML raises RulesError."""
    doc, lines = yamlio.load_with_lines(text, origin, error=RulesError, hint="fix the YAML; nothing was written")
    problems = Problems(origin, lines)
    out = validate(doc, problems, stages=stages, event=event)
    problems.items[:] = problems.lines()
    return out, problems


def load(path: Path, *, event: str | None = None) -> RulesDoc:
    """Read and validate a rules file; raise RulesError listing every problem."""
    text = yamlio.read_text(Path(path), error=RulesError, hint="pass the path of an event's rules YAML file (UTF-8 text)")
    rules, problems = parse(text, str(path), event=event)
    if problems.items or rules is None:
        raise_problems(str(path), problems.items)
    assert rules is not None
    return rules


def raise_problems(origin: str, items: list[str]) -> None:
    raise RulesError(
        f"{origin}: {len(items)} problem(s); nothing was written",
        "fix the file and run rules-import again",
        details="\n".join(f"  {p}" for p in items),
    )
