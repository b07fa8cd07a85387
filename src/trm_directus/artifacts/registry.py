"""Which artifact kinds live in which committed file, in the order they are applied.

Order rules: a file comes after the files it references, a kind after the kinds it references
(panels name their dashboard); creates and updates run in this order, deletions in reverse.
`access` (roles → policies → access links → permissions) comes before `ui`: role-scoped presets
would name their role.
"""

from __future__ import annotations

from pathlib import Path

from . import access, dashboards, panels, presets
from .kind import Kind

FILES: dict[str, tuple[Kind, ...]] = {
    "access": (access.ROLES, access.POLICIES, access.ACCESS, access.PERMISSIONS),
    "ui": (presets.KIND, dashboards.KIND, panels.KIND),
}

# Environment variable that overrides where a file is read at boot (default: next to SNAPSHOT_PATH).
PATH_ENV = {"access": "ACCESS_SNAPSHOT_PATH", "ui": "UI_SNAPSHOT_PATH"}

# The one-run token that allows a boot to delete rules of a pruning file (the file's sha256 prefix).
ALLOW_ENV = {"access": "ACCESS_APPLY_ALLOW_DESTRUCTIVE"}


def default_path(name: str, snapshot_dir: Path) -> Path:
    return snapshot_dir / f"{name}.yaml"


def kinds(name: str) -> tuple[Kind, ...]:
    return FILES[name]
