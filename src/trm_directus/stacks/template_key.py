"""The key of a template database: a hash of everything that goes into the database a fresh boot builds.

Two stacks may share a template only when their empty-database boots would produce the same
database, so the key covers every input of boot steps 1-4 (a missed input is how a stale template
gets used, hence each input has its own unit test):
- the Directus version and the native package's lockfile (`bootstrap`, `schema apply` run that Directus);
- every file of the db-init directory, pre and post (names and bytes);
- the schema snapshot and every system-artifact file the boot applies (access, UI), as the boot finds them;
- the extension sources (or the files of a prepared extensions directory);
- the toolchain that runs the steps: image/entrypoint.sh, directus/warm.mjs, and every module of this
  package that the step commands or the native stack import (their import closure, read from the sources: a change
  to, say, the course importer does not rebuild the template; one to the db-init runner does);
- the PostgreSQL install: its bin directory, major version and the control files of its extensions
  (PostGIS, TimescaleDB versions), and the db-init mode that follows from them;
- the stack's extra settings (`env=`), and the format of the template itself.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import paths, pins
from ..services import timescaledb

FORMAT = "1"  # the layout of a template (data directory, manifest): bump when it changes
PACKAGE = Path(__file__).resolve().parents[1]
# What runs while a database is built: the CLI and the boot-step commands (cli.py imports a command
# by name, the only import the sources do not spell out), and the stack that configures them.
ROOTS = ("__main__", "cli", "commands.preflight", "commands.boot_steps", "commands.migrate", "commands.bootstrap",
         "commands.schema_apply", "stacks.native")  # fmt: skip


# Files of the package the steps run that are not Python modules: the prewarmed Directus CLI's script.
TOOLCHAIN_FILES = ("directus/warm.mjs",)


def _digest(chunks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(len(chunk).to_bytes(8, "big") + chunk)
    return h.hexdigest()


def files_digest(root: Path, pattern: str = "*") -> str:
    """Names (relative to `root`) and bytes of every file under `root` matching `pattern`; "absent" when none."""
    root = Path(root)
    files = sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts) if root.is_dir() else []
    if not files:
        return "absent"
    return _digest(c for f in files for c in (str(f.relative_to(root)).encode(), f.read_bytes()))


def _module_file(package: Path, name: str) -> Path | None:
    base = package.joinpath(*name.split(".")) if name else package
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def toolchain_modules(package: Path | None = None) -> list[Path]:
    """The package's modules that ROOTS import, directly or not (every import statement counts, also
    those inside functions), with the packages they sit in."""
    package = package or PACKAGE
    seen: dict[str, Path] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        path = _module_file(package, name)
        if path is None or name in seen:
            continue
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(len(parts))]  # the packages' __init__ run first
        here = tuple(parts[:-1] if path.name != "__init__.py" else parts)
        st = path.stat()
        todo += _imports(path, st.st_mtime_ns, st.st_size, here, package.name)
    return sorted(set(seen.values()))


@functools.cache
def _imports(path: Path, mtime_ns: int, size: int, here: tuple[str, ...], top: str) -> list[str]:
    """Names (relative to the package) that a module's import statements may load; parsed once per version of the file."""
    del mtime_ns, size  # the cache key: an edited file is parsed again
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level + 1]) + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == top:
                base = node.module.split(".")[1:]
            else:
                continue
            found += [".".join(base)] + [".".join([*base, a.name]) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [".".join(a.name.split(".")[1:]) for a in node.names if a.name.split(".")[0] == top]
    return found


def file_digest(path: Path) -> str:
    path = Path(path)
    return _digest([path.read_bytes()]) if path.is_file() else "absent"


@dataclass(frozen=True)
class Inputs:
    """What a stack's first boot builds its database from."""

    snapshot_path: Path
    db_init_dir: Path
    extensions: Path  # the sources (extensions/) or a prepared directory of built extensions
    bindir: Path
    env: Mapping[str, str]
    native_package: Path | None = None  # image/native (the Directus lockfile); default: the repository's

    def artifact_paths(self) -> dict[str, Path]:
        """The system-artifact files the boot applies, where the boot looks for them (sync.boot_path)."""
        from ..artifacts import registry, sync

        return {name: sync.boot_path(name, {**os.environ, **self.env}, self.snapshot_path) for name in registry.FILES}

    def parts(self) -> dict[str, str]:
        """Each input by name, as a digest (printed in the template's manifest: what went into it)."""
        from ..directus.extensions import discover, source_hash
        from ..services.node import lock_hash

        package = self.native_package or pins.native_package_dir()
        install = timescaledb.install_of(self.bindir)
        if discover(self.extensions):
            extensions = ",".join(f"{e.name}={source_hash(e)}" for e in discover(self.extensions))
        else:
            extensions = files_digest(self.extensions)
        parts = {
            "format": FORMAT,
            "directus": f"{pins.directus_version()} lockfile {lock_hash(package)}",
            "db-init": files_digest(self.db_init_dir, "*.sql"),
            "snapshot": file_digest(self.snapshot_path),
            **{f"artifact {name}": file_digest(path) for name, path in self.artifact_paths().items()},
            "extensions": extensions,
            "toolchain": _digest(
                [str(f.relative_to(PACKAGE)).encode() + b"\0" + f.read_bytes() for f in toolchain_modules()]
                + [file_digest(paths.repo_root() / "image" / "entrypoint.sh").encode()]
                + [file_digest(PACKAGE / name).encode() for name in TOOLCHAIN_FILES]
            ),
            "postgres": f"{self.bindir} (major {Path(self.bindir).parent.name})",
            "postgres extensions": files_digest(install.sharedir / "extension", "*.control"),
            "db-init mode": timescaledb.db_init_mode(self.bindir),
            "settings": _digest(f"{k}={v}".encode() for k, v in sorted(self.env.items())),
        }
        return parts


def key(inputs: Inputs) -> str:
    """The template's name: 20 hex digits of the hash over every input."""
    return _digest(f"{name}\0{value}".encode() for name, value in sorted(inputs.parts().items()))[:20]
