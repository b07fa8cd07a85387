"""An event's rules file in a seed (`rules: FILE`): validated with the seed, loaded after its stages, counted by verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..directus.writer import Loader
from ..documents import yamlio
from ..documents.validation import Path_, Problems
from ..errors import RulesError
from .load import Resolver, apply
from .rules_file import load, parse


def validate_reference(event: dict[str, Any], path: Path_, problems: Problems) -> None:
    """A seed event's `rules: FILE` (relative to the seed file): validated with the seed, its problems listed with it."""
    file = (Path(problems.origin).resolve().parent / event["rules"]).resolve()
    if not file.is_file():
        problems.add(path, f"rules file {file} does not exist (paths are relative to the seed file)")
        return
    listed = event.get("stages") if isinstance(event.get("stages"), list) else []  # a wrong type: the seed's own problem
    stages = {s["name"] for s in listed if isinstance(s, dict) and isinstance(s.get("name"), str)}
    try:
        text = yamlio.read_text(file, error=RulesError)
        _, found = parse(text, str(file), stages=stages or None, event=event.get("slug"))
    except RulesError as exc:  # unreadable, or not valid YAML: one problem of the seed
        problems.items.append(exc.what)
        return
    problems.items.extend(found.items)
    event["rules"] = str(file)


def expected_counts(events: list[dict[str, Any]]) -> dict[str, int]:
    """Rows the rules files of seed events add (validated documents: `rules` is an absolute path)."""
    totals: dict[str, int] = {}
    for e in events:
        if e.get("rules"):
            for k, n in load(Path(e["rules"]), event=e.get("slug")).row_counts().items():
                if k != "segments":  # maximum times update segments, they do not add rows
                    totals[k] = totals.get(k, 0) + n
    return totals


def load_seed(loader: Loader, events: list[dict[str, Any]], event_id) -> None:
    """The `rules:` file of each seed event (validated with the seed; paths already absolute)."""
    for e in events:
        if e.get("rules"):
            planned = {s["name"] for s in e.get("stages") or []} if loader.dry_run else frozenset()
            apply(loader, load(Path(e["rules"]), event=e.get("slug")), event_id(e), Resolver(loader.api, event_id(e), planned))
