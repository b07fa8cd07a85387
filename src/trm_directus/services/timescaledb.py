"""TimescaleDB on the local PostgreSQL install: whether it is there, and the settings that load it.

A server with the extension's files but without `shared_preload_libraries=timescaledb` cannot
create the extension at all (FATAL "must be preloaded"), so every cluster started from an install
that has it must preload it. Detection looks where that server looks: the `sharedir` and
`pkglibdir` its own `pg_config` reports (they follow the binaries when an install is relocated),
falling back to Debian's layout.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

EXTENSION = "timescaledb"
INSTALL_HINT = (
    "run `bash .ci/prereqs` (it builds TimescaleDB from the source tarball in TIMESCALEDB_SOURCE, "
    "default ../shared/vendor/timescaledb-2.28.3-apache.tar.gz, or installs Timescale's package)"
)


@dataclass(frozen=True)
class Install:
    """Where a PostgreSQL install keeps extension control files and libraries."""

    sharedir: Path
    pkglibdir: Path

    @property
    def control(self) -> Path:
        return self.sharedir / "extension" / f"{EXTENSION}.control"

    @property
    def library(self) -> Path:
        return self.pkglibdir / f"{EXTENSION}.so"

    def has_timescaledb(self) -> bool:
        return self.control.is_file() and self.library.is_file()

    def timescaledb_version(self) -> str | None:
        """The control file's default_version, or None when TimescaleDB is not installed."""
        if not self.has_timescaledb():
            return None
        for line in self.control.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "default_version":
                return value.strip().strip("'")
        return None


@cache
def install_of(bindir: Path) -> Install:
    """The directories of the PostgreSQL install whose binaries are in `bindir`."""
    pg_config = Path(bindir) / "pg_config"
    if pg_config.exists():
        result = subprocess.run([str(pg_config), "--sharedir", "--pkglibdir"], capture_output=True, text=True)
        lines = result.stdout.split()
        if result.returncode == 0 and len(lines) == 2:
            return Install(Path(lines[0]), Path(lines[1]))
    major = Path(bindir).parent.name  # Debian: /usr/lib/postgresql/<major>/bin
    return Install(Path(f"/usr/share/postgresql/{major}"), Path(bindir).parent / "lib")


def available(bindir: Path) -> bool:
    """Whether the PostgreSQL install of `bindir` has TimescaleDB (control file and library)."""
    return install_of(Path(bindir)).has_timescaledb()


def server_settings(bindir: Path) -> dict[str, str]:
    """Settings a cluster of this install needs: preload TimescaleDB where it exists, telemetry off."""
    if not available(bindir):
        return {}
    return {"shared_preload_libraries": EXTENSION, "timescaledb.telemetry_level": "off"}


def db_init_mode(bindir: Path) -> str:
    """TRM_TIMESCALEDB for db-init on this install: `required` (as production) where it exists."""
    return "required" if available(bindir) else "optional"
