"""Which artifact kinds live in which committed file, in the order they are applied.

Order rules: a file comes after the files it references, a kind after the kinds it references
(panels name their dashboard); creates and updates run in this order, deletions in reverse.
Issue 11 adds `access` (roles → policies → access → permissions) before `ui`: role-scoped
presets will name their role.
"""

from __future__ import annotations

from pathlib import Path

from . import dashboards, panels, presets
from .kind import Kind

FILES: dict[str, tuple[Kind, ...]] = {
    "ui": (presets.KIND, dashboards.KIND, panels.KIND),
}

# Environment variable that overrides where a file is read at boot (default: next to SNAPSHOT_PATH).
PATH_ENV = {"ui": "UI_SNAPSHOT_PATH"}


def default_path(name: str, snapshot_dir: Path) -> Path:
    return snapshot_dir / f"{name}.yaml"


def kinds(name: str) -> tuple[Kind, ...]:
    return FILES[name]
