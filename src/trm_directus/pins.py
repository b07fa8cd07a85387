"""The one Directus version pin (image/Dockerfile's DIRECTUS_VERSION) and the checks that others agree."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from .errors import ConfigError
from .paths import repo_root

_ARG = re.compile(r"^ARG\s+DIRECTUS_VERSION=(?P<version>\S+)\s*$", re.MULTILINE)
_FROM = re.compile(r"^FROM\s+directus/directus:(?P<tag>\S+)", re.MULTILINE)


def dockerfile(root: Path | None = None) -> Path:
    return (root or repo_root()) / "image" / "Dockerfile"


def directus_version(root: Path | None = None) -> str:
    """The pinned Directus version, read from `ARG DIRECTUS_VERSION=…` in image/Dockerfile."""
    path = dockerfile(root)
    try:
        text = path.read_text()
    except FileNotFoundError:
        env = os.environ.get("TRM_DIRECTUS_VERSION")
        if env:
            return env
        raise ConfigError(f"{path} is missing: it holds the Directus version pin", "run from a checkout of the repo") from None
    m = _ARG.search(text)
    if not m:
        raise ConfigError(
            f"{path}: no `ARG DIRECTUS_VERSION=<version>` line", "restore the pin line at the top of the Dockerfile"
        )
    return m.group("version")


def native_package_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "image" / "native"


def check(root: Path | None = None, snapshot_path: Path | None = None) -> list[str]:
    """Every disagreement between the pin and the places that must follow it (empty when all agree):
    the Dockerfile's FROM, the native package and its lockfile, the snapshots' `directus:`."""
    from .schema import snapshot  # local: schema imports pins

    root = root or repo_root()
    pin = directus_version(root)
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
    text = dockerfile(root).read_text()
    m = _FROM.search(text)
    if not m:
        problems.append(f"{dockerfile(root)}: no `FROM directus/directus:...` line")
    elif m.group("tag") not in (pin, "${DIRECTUS_VERSION}"):
        problems.append(f"{dockerfile(root)}: FROM tag {m.group('tag')} differs from DIRECTUS_VERSION={pin}")
    return problems + native_package_problems(root)


def native_package_problems(root: Path | None = None) -> list[str]:
    """Where the native package (image/native) disagrees with the pin: what a native stack checks at every
    start (check() also parses the snapshots, a second or more per call)."""
    root = root or repo_root()
    pin = directus_version(root)
    pkg_dir = native_package_dir(root)
    try:
        pkg = json.loads((pkg_dir / "package.json").read_text())
        lock = json.loads((pkg_dir / "package-lock.json").read_text())
    except FileNotFoundError as exc:
        return [f"native package file missing: {exc.filename}"]
    problems = []
    wanted = pkg.get("dependencies", {}).get("directus")
    if wanted != pin:
        problems.append(f"{pkg_dir / 'package.json'}: directus {wanted!r} differs from the pin {pin}")
    locked = lock.get("packages", {}).get("node_modules/directus", {}).get("version")
    if locked != pin:
        problems.append(f"{pkg_dir / 'package-lock.json'}: locks directus {locked!r}, the pin is {pin}")
    return problems
