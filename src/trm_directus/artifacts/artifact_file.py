"""An artifact file (`snapshots/ui.yaml`): read and validate it, write it in canonical form.

Canonical form: `directus: <version>`, then one list per kind in registry order, items in the
kind's sort order, fields in the kind's field order, JSON mapping keys sorted. A capture of a
database built from the file writes the same bytes (the drift gate checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..documents import yamlio
from ..documents.validation import Problems
from ..errors import ArtifactError
from .kind import Item, Kind

HEADER = (
    "# Directus system artifacts as code ({name}): {sections}.\n"
    "# Captured from the dev stack with `python -m trm_directus {name}-snapshot` (never edited by hand);\n"
    "# applied at boot right after the schema (entrypoint step 3), checked by the drift gate.\n"
)


@dataclass
class Document:
    name: str
    kinds: tuple[Kind, ...]
    directus: str
    items: dict[str, list[Item]] = field(default_factory=dict)  # section -> normalized items
    path: Path | None = None

    def section(self, kind: Kind) -> list[Item]:
        return self.items.get(kind.section, [])

    def count(self) -> str:
        return ", ".join(f"{len(self.section(k))} {k.section}" for k in self.kinds)


def _dumper() -> type[yaml.SafeDumper]:
    class Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, _str)
    return Dumper


def render(doc: Document) -> str:
    body: dict[str, Any] = {"directus": doc.directus}
    for kind in doc.kinds:
        body[kind.section] = sorted((kind.normalize(i) for i in doc.section(kind)), key=kind.sort_key)
    sections = ", ".join(k.section for k in doc.kinds)
    text = yaml.dump(body, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return HEADER.format(name=doc.name, sections=sections) + text


def write(doc: Document, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc))


def read(path: Path, name: str, kinds: tuple[Kind, ...]) -> Document | None:
    """The validated document, or None when the file is absent or blank. Every problem is reported
    at once as `file:line: path: reason`."""
    path = Path(path)
    if not path.exists():
        return None
    text = yamlio.read_text(path, error=ArtifactError, hint=f"fix the file or re-capture it with {name}-snapshot")
    # The strict loader: duplicate keys and alias bombs are errors with their line, like every YAML input.
    data, lines = yamlio.load_with_lines(
        text, str(path), error=ArtifactError, hint=f"fix the file or re-capture it with {name}-snapshot"
    )
    if data is None:
        return None
    problems = Problems(str(path), lines)
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: expected a mapping with `directus:` and {', '.join(k.section for k in kinds)}")
    by_section = {k.section: k for k in kinds}
    for extra in sorted(set(data) - {"directus", *by_section}):
        problems.add((extra,), f"unknown section (expected: directus, {', '.join(by_section)})")
    if not data.get("directus"):
        problems.add(("directus",), "missing: the Directus version the file was captured on")
    doc = Document(name, kinds, str(data.get("directus", "")), path=path)
    keys: dict[str, set] = {}
    for kind in kinds:
        raw = data.get(kind.section) or []
        if not isinstance(raw, list):
            problems.add((kind.section,), "must be a list")
            continue
        seen: set = set()
        for i, item in enumerate(raw):
            where = (kind.section, i)
            if not isinstance(item, dict):
                problems.add(where, "must be a mapping")
                continue
            for f in sorted(set(item) - set(kind.fields)):
                problems.add((*where, f), f"unknown field (known: {', '.join(kind.fields)})")
            for f in kind.key_fields:
                if item.get(f) in (None, "") and f not in kind.nullable_key_fields:
                    problems.add((*where, f), "missing: it is part of the key")
            key = kind.key(item)
            if key in seen:
                problems.add(where, f"duplicate {kind.singular} {kind.label(key)}")
            seen.add(key)
            for f, section in kind.references.items():
                if item.get(f) not in {k[0] for k in keys.get(section, set())}:
                    problems.add((*where, f), f"no {by_section[section].singular} named {item.get(f)!r} in this file")
        keys[kind.section] = seen
        doc.items[kind.section] = [kind.normalize(i) for i in raw if isinstance(i, dict)]
    if problems.items:
        raise ArtifactError(
            f"{path}: {len(problems.items)} problem(s); nothing was applied",
            f"fix the file, or re-capture it from the dev stack with {name}-snapshot",
            details="\n".join(problems.items),
        )
    return doc
