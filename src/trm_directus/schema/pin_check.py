"""Does every place that must follow the Directus pin agree with it: the Dockerfile's FROM, the native
package and its lockfile, and the Directus version each committed artifact (schema, access, ui) was
captured on. `python -m trm_directus pins` and the drift gate ask."""

from __future__ import annotations

from pathlib import Path

import yaml

from .. import pins
from ..paths import repo_root
from . import snapshot


def check(root: Path | None = None, snapshot_path: Path | None = None) -> list[str]:
    """Every disagreement between the pin and the places that must follow it (empty when all agree):
    the Dockerfile's FROM, the native package and its lockfile, the snapshots' `directus:`."""
    root = root or repo_root()
    pin = pins.directus_version(root)
    problems: list[str] = []
    snapshot_path = snapshot_path or root / "snapshots" / "schema.yaml"
    committed = snapshot.read(snapshot_path)
    if committed is not None and str(committed.get("directus")) != pin:
        problems.append(f"{snapshot_path}: captured on Directus {committed.get('directus')}, the pin is {pin}")
    for name in ("access", "ui"):  # system artifacts (roles and permissions; list layouts, dashboards)
        art = snapshot_path.parent / f"{name}.yaml"
        captured_on = (yaml.safe_load(art.read_text()) or {}).get("directus") if art.exists() else pin
        if str(captured_on) != pin:
            problems.append(f"{art}: captured on Directus {captured_on}, the pin is {pin}")
    text = pins.dockerfile(root).read_text()
    m = pins.FROM_LINE.search(text)
    if not m:
        problems.append(f"{pins.dockerfile(root)}: no `FROM directus/directus:...` line")
    elif m.group("tag") not in (pin, "${DIRECTUS_VERSION}"):
        problems.append(f"{pins.dockerfile(root)}: FROM tag {m.group('tag')} differs from DIRECTUS_VERSION={pin}")
    return problems + pins.native_package_problems(root)
