"""Where this checkout is: the repository root that snapshots/, db-init/, seeds/ and image/ are read from."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package runs from (TRM_REPO_ROOT overrides; in the image, whose
    package is installed, the working directory: WORKDIR /directus)."""
    override = os.environ.get("TRM_REPO_ROOT")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parents[2]
    if (here / "image" / "Dockerfile").exists():
        return here
    return Path.cwd()
