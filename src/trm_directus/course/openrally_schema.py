"""The official OpenRally check of a course file: `xmllint --noout --schema test_wrapper.xsd FILE`.

That is the command of the standard's own `validate.sh` (openrally/openrally, `cross-country/`):
openrally.xsd v1.0.3 with GPX 1.1 "strict", whose <extensions> accept only elements of a schema it
knows — so an element of another namespace, ours included, fails it. The schema is not copied into
this repository: it is read from the vendored copy beside the clone, `../shared/vendor/openrally`
(its README says where it comes from), or from OPENRALLY_SCHEMA_DIR. xmllint is Debian's
`libxml2-utils` (`.ci/prereqs` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..paths import repo_root

ENV = "OPENRALLY_SCHEMA_DIR"
NAMESPACE = "http://www.openrally.org/xmlschemas/GpxExtensions/v1.0.3"


def schema_dir() -> Path:
    """The vendored schema's directory (holding `cross-country/test_wrapper.xsd` and `common/`)."""
    override = os.environ.get(ENV)
    return Path(override) if override else (repo_root() / ".." / "shared" / "vendor" / "openrally").resolve()


def unavailable() -> str | None:
    """Why files cannot be checked here (None: they can)."""
    if shutil.which("xmllint") is None:
        return "xmllint is not installed (Debian: apt-get install libxml2-utils; .ci/prereqs installs it)"
    return None


@dataclass(frozen=True)
class Verdict:
    path: Path
    valid: bool
    output: str  # xmllint's own words: "FILE validates", or each error with its line and "FILE fails to validate"


def check(path: Path, schema: Path | None = None) -> Verdict:
    """xmllint's verdict on one file; raises FileNotFoundError naming what is missing."""
    wrapper = (schema or schema_dir()) / "cross-country" / "test_wrapper.xsd"
    if not wrapper.is_file():
        raise FileNotFoundError(
            f"the OpenRally schema is not at {wrapper}: put the vendored copy at ../shared/vendor/openrally "
            f"beside the clone, or set {ENV}"
        )
    done = subprocess.run(
        ["xmllint", "--noout", "--nonet", "--schema", str(wrapper), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Verdict(path, done.returncode == 0, (done.stdout + done.stderr).strip())
