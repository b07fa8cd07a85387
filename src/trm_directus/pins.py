"""The one Directus version pin (image/Dockerfile's DIRECTUS_VERSION) and the checks that others agree."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .errors import ConfigError
from .paths import repo_root

_ARG = re.compile(r"^ARG\s+DIRECTUS_VERSION=(?P<version>\S+)\s*$", re.MULTILINE)
FROM_LINE = re.compile(r"^FROM\s+directus/directus:(?P<tag>\S+)", re.MULTILINE)


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


def native_package_problems(root: Path | None = None) -> list[str]:
    """Where the native package (image/native) disagrees with the pin: what a native stack checks at every
    start (schema/pin_check.py also parses the snapshots, a second or more per call)."""
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
