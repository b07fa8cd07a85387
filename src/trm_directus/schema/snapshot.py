"""Reading, validating and writing Directus schema snapshots (`snapshots/schema.yaml`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..documents import yamlio
from ..errors import SnapshotError

SECTIONS = ("collections", "fields", "systemFields", "relations")
KEYS = {
    "collections": ("collection",),
    "fields": ("collection", "field"),
    "systemFields": ("collection", "field"),
    "relations": ("collection", "field"),
}

Snapshot = dict[str, Any]


REFUSED_HINT = "restore the file from git and re-capture it with `invoke snapshot` (never hand-edit it)"


def read(path: Path) -> Snapshot | None:
    """The snapshot at `path`; None when the file is absent or blank (comments/whitespace only)."""
    path = Path(path)
    if not path.exists():
        return None
    text = yamlio.read_text(path, error=SnapshotError, hint=REFUSED_HINT)
    if not text.strip():
        return None
    return parse(text, str(path))


def parse(text: str, origin: str = "<snapshot>") -> Snapshot | None:
    data = yamlio.load(text, origin, error=SnapshotError, hint=REFUSED_HINT)
    if data is None:
        return None
    validate(data, origin)
    return data


def validate(data: Any, origin: str) -> None:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SnapshotError(
            f"{origin}: a snapshot is a mapping, found {type(data).__name__}", "re-capture it with `invoke snapshot`"
        )
    for key, kind in (("version", int), ("directus", str), ("vendor", str)):
        if not isinstance(data.get(key), kind):
            problems.append(f"`{key}` is missing or not a {kind.__name__}")
    for section in SECTIONS:
        items = data.get(section, [] if section == "systemFields" else None)
        if not isinstance(items, list):
            problems.append(f"`{section}` is missing or not a list")
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"{section}[{i}] is not a mapping")
                continue
            missing = [k for k in KEYS[section] if not item.get(k)]
            if section == "fields" and "type" not in item:
                missing.append("type")
            if missing:
                problems.append(f"{section}[{i}] lacks {', '.join(missing)}")
    if problems:
        raise SnapshotError(
            f"{origin}: not a Directus schema snapshot ({len(problems)} problem(s))",
            "re-capture it with `invoke snapshot` (never hand-edit it)",
            details="\n".join(f"  {p}" for p in problems[:20]),
        )


def empty_like(target: Snapshot) -> Snapshot:
    """A snapshot of a database with no user collections, same version/vendor as `target`."""
    return {
        "version": target.get("version", 1),
        "directus": target.get("directus"),
        "vendor": target.get("vendor"),
        "collections": [],
        "fields": [],
        "systemFields": [],
        "relations": [],
    }


_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:public\.)?\"?([a-z_][a-z0-9_]*)\"?\s*\(", re.IGNORECASE)


def owned_tables(db_init_dir: Path) -> set[str]:
    """Tables that db-init's pre-schema files create in the public schema (never Directus collections)."""
    from ..dbinit.discovery import discover

    names: set[str] = set()
    for f in discover(Path(db_init_dir)):
        if f.phase == "pre":
            names |= {m.group(1) for stmt in f.statements for m in _CREATE_TABLE.finditer(stmt.sql)}
    return names


def without_tables(data: Snapshot, tables: set[str]) -> tuple[Snapshot, list[str]]:
    """Drop "ghost" collections of db-init-owned tables (lessons.md), with their fields and relations."""
    removed = sorted({c["collection"] for c in data.get("collections", []) if c["collection"] in tables})
    if not removed:
        return data, []
    gone = set(removed)
    out = dict(data)
    out["collections"] = [c for c in data["collections"] if c["collection"] not in gone]
    out["fields"] = [f for f in data.get("fields", []) if f["collection"] not in gone]
    out["relations"] = [
        r for r in data.get("relations", []) if r["collection"] not in gone and r.get("related_collection") not in gone
    ]
    return out, removed


class _Dumper(yaml.SafeDumper):
    """Close to Directus's js-yaml output: sequences indented under their key, 2-space indent."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def dump(data: Snapshot) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, indent=2, width=80)


def write(path: Path, data: Snapshot) -> None:
    Path(path).write_text(dump(data))
