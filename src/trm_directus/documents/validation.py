"""What every document loader (seed, rules, course, artifact files) reports its problems with: a place in
the file (`file:line`, and the path of the value in the document when there is one), and the checks of a
mapping against a schema of keys, types and value checks.

A loader collects every problem of a file before it raises, so the user fixes the file in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Path_ = tuple[str | int, ...]
# key -> (type or types, required, check(value) -> error text or None)
Schema = dict[str, tuple[type | tuple[type, ...], bool, Callable[[Any], str | None] | None]]


def fmt_path(path: Path_) -> str:
    """`events[0].stages[2].name`; `(document)` for the whole document."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


@dataclass
class Problems:
    """The problems of one file, rendered `file:line: path: reason` (`file:line: reason` for a bare line).

    `where` maps a document path to its source line; a path without a line of its own takes its nearest
    parent's."""

    origin: str
    where: dict[Path_, int] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)

    def add(self, at: Path_ | int, reason: str) -> None:
        if not isinstance(at, tuple):  # a line of the file (course files have no document paths)
            self.items.append(f"{self.origin}:{at}: {reason}")
            return
        line = None
        for n in range(len(at), -1, -1):
            line = self.where.get(at[:n])
            if line:
                break
        self.items.append(f"{self.origin}:{line or '?'}: {fmt_path(at)}: {reason}")

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        """In file order; problems on the same line keep the order they were found in."""
        return sorted(self.items, key=line_of)


def line_of(problem: str) -> int:
    """The line number of a rendered problem (0 when it has none)."""
    match = re.match(r"^.*?:(\d+): ", problem)
    return int(match.group(1)) if match else 0


def check_item(item: Any, kind: str, schema: Schema, path: Path_, problems: Problems) -> bool:
    """`item` against `schema`: unknown keys, missing required keys, types, value checks. False when the
    item is not a mapping at all (the caller then skips what depends on it)."""
    if not isinstance(item, dict):
        problems.add(path, f"expected a mapping ({kind}), got {type(item).__name__}")
        return False
    for key in item:
        if key not in schema:
            problems.add((*path, key), f"unknown key for a {kind} (known: {', '.join(schema)})")
    for key, (types, required, check) in schema.items():
        if key not in item or item[key] is None:
            if required:
                problems.add(path, f"{kind} lacks required `{key}`")
            continue
        value = item[key]
        allowed = types if isinstance(types, tuple) else (types,)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in allowed):  # YAML true is an int too
            names = "/".join(t.__name__ for t in allowed)
            problems.add((*path, key), f"expected {names}, got {type(value).__name__} {value!r}")
            continue
        if check is not None:
            error = check(value)
            if error:
                problems.add((*path, key), error)
    return True


def unique(values: list[tuple[Any, Path_]], what: str, problems: Problems) -> set:
    """The distinct values; each repeat is a problem naming where the first one is."""
    seen: dict[Any, Path_] = {}
    for value, path in values:
        if not hashable(value):
            continue  # a list or mapping where a value belongs: already reported as a type problem
        if value in seen:
            problems.add(path, f"duplicate {what} {value!r} (first at {fmt_path(seen[value])})")
        else:
            seen[value] = path
    return set(seen)


def hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def list_at(item: dict, key: str) -> list:
    """item[key] when it is a list; anything else was reported by check_item, and counts as empty here."""
    value = item.get(key)
    return value if isinstance(value, list) else []


def enum(values: list[str]) -> Callable[[Any], str | None]:
    return lambda v: None if v in values else f"must be one of {', '.join(values)} (got {v!r})"


def regex(pattern: str | re.Pattern, what: str) -> Callable[[Any], str | None]:
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    return lambda v: None if rx.match(str(v)) else f"{what} (got {v!r})"


def iso_datetime(v: Any) -> str | None:
    """A date-time with a time zone offset (a datetime YAML parsed, or ISO 8601 text)."""
    if isinstance(v, datetime):
        return None if v.tzinfo else "a date-time needs a time zone offset, e.g. 2026-06-06T08:00:00+02:00"
    try:
        parsed = datetime.fromisoformat(str(v))
    except ValueError:
        return f"not an ISO 8601 date-time (got {v!r})"
    return None if parsed.tzinfo else "a date-time needs a time zone offset, e.g. 2026-06-06T08:00:00+02:00"


def iso_date(v: Any) -> str | None:
    """A date YYYY-MM-DD."""
    if isinstance(v, date) and not isinstance(v, datetime):
        return None
    try:
        date.fromisoformat(str(v))
    except ValueError:
        return f"not an ISO date YYYY-MM-DD (got {v!r})"
    return None
