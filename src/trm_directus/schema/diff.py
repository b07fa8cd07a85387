"""Differences between two snapshots, grouped as create / update / delete per collection, field, relation.

`compute(current, target)` answers "what would applying `target` change on a database whose
snapshot is `current`": create = in target only, delete = in current only, update = in both but
different (with the changed paths). Whether a change is safe or destructive is guard.py's call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .snapshot import KEYS, SECTIONS, Snapshot

KIND = {"collections": "collection", "fields": "field", "systemFields": "system field", "relations": "relation"}


@dataclass(frozen=True)
class Change:
    section: str
    key: tuple[str, ...]
    action: str  # create | update | delete
    details: tuple[str, ...] = ()  # for updates: "path: old -> new"

    @property
    def name(self) -> str:
        return ".".join(self.key)


@dataclass
class SchemaDiff:
    changes: list[Change] = field(default_factory=list)
    normalised: list[str] = field(default_factory=list)  # what normalisation hid, for the report

    @property
    def empty(self) -> bool:
        return not self.changes

    def by_action(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def to_create(self) -> list[Change]:
        return self.by_action("create")

    @property
    def to_update(self) -> list[Change]:
        return self.by_action("update")

    @property
    def to_delete(self) -> list[Change]:
        return self.by_action("delete")

    def summary(self) -> str:
        return f"{len(self.to_create)} to create, {len(self.to_update)} to update, {len(self.to_delete)} to delete"

    def render_text(self, labels: dict[str, str] | None = None) -> str:
        labels = {"create": "create", "update": "update", "delete": "DELETE"} | (labels or {})
        if self.empty:
            return "no differences"
        lines: list[str] = []
        for section in SECTIONS:
            items = [c for c in self.changes if c.section == section]
            if not items:
                continue
            lines.append(f"{section}:")
            for c in sorted(items, key=lambda c: (("delete", "create", "update").index(c.action), c.key)):
                lines.append(f"  {labels[c.action]:<7} {c.name}")
                lines += [f"            {d}" for d in c.details[:12]]
                if len(c.details) > 12:
                    lines.append(f"            … and {len(c.details) - 12} more")
        lines.append(self.summary())
        return "\n".join(lines)

    def render_markdown(self, title: str, labels: dict[str, str] | None = None) -> str:
        labels = {"create": "create", "update": "update", "delete": "**delete**"} | (labels or {})
        out = [f"## {title}", ""]
        if self.empty:
            out.append("No differences.")
        else:
            out += ["| change | kind | item | details |", "| --- | --- | --- | --- |"]
            for c in self.changes:
                details = "<br>".join(f"`{d}`" for d in c.details[:8]).replace("|", "\\|")
                out.append(f"| {labels[c.action]} | {KIND[c.section]} | `{c.name}` | {details} |")
            out += ["", self.summary()]
        if self.normalised:
            out += ["", "<details><summary>Normalised (not drift)</summary>", ""]
            out += [f"- {n}" for n in self.normalised] + ["", "</details>"]
        return "\n".join(out) + "\n"


def index(items: list[dict[str, Any]], section: str) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(str(item.get(k)) for k in KEYS[section]): item for item in items}


def compute(current: Snapshot, target: Snapshot, *, normalise: Any = None) -> SchemaDiff:
    """Item-by-item comparison; `normalise(section, item) -> item` is applied to both sides when given, and
    the raw differences it hid are listed in `normalised`."""
    result = SchemaDiff()
    for section in SECTIONS:
        have = index(current.get(section) or [], section)
        want = index(target.get(section) or [], section)
        for key in sorted(want.keys() - have.keys()):
            result.changes.append(Change(section, key, "create"))
        for key in sorted(have.keys() - want.keys()):
            result.changes.append(Change(section, key, "delete"))
        for key in sorted(have.keys() & want.keys()):
            a, b = have[key], want[key]
            raw = _differences(a, b)
            if raw and normalise is not None:
                details = _differences(normalise(section, a), normalise(section, b))
                hidden = [d for d in raw if d not in details]
                result.normalised += [f"{KIND[section]} {'.'.join(key)}: {d}" for d in hidden]
            else:
                details = raw
            if details:
                result.changes.append(Change(section, key, "update", tuple(details)))
    return result


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in list(dict.fromkeys([*a.keys(), *b.keys()])):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{sub}: (absent) -> {_short(b[k])}")
            elif k not in b:
                out.append(f"{sub}: {_short(a[k])} -> (absent)")
            else:
                out += _differences(a[k], b[k], sub)
        return out
    if a != b:
        return [f"{path or '(value)'}: {_short(a)} -> {_short(b)}"]
    return []


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
