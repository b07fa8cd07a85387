"""Build and check the Directus extensions in extensions/<name>/ (TypeScript, extensions SDK) for native stacks.

Each extension is built the way the image builds it (`npm ci && npm run build`, which type-checks
with tsc and bundles with the SDK), in a cache directory keyed by the hash of its sources and
lockfile, so an unchanged extension is built once. A stack gets a copy of package.json + dist/.
`check` type-checks an extension and runs its unit tests (vitest, `npm test`) where it has them,
in a work directory whose node_modules is reused while the lockfile is unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from .. import console
from ..errors import StackError
from ..services import private
from ..services.node import Node, cache_root, find_node

SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "src")


def discover(root: Path) -> list[Path]:
    return sorted(p.parent for p in Path(root).glob("*/package.json"))


def source_hash(ext: Path) -> str:
    h = hashlib.sha256()
    for name in SOURCES:
        path = ext / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(ext)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def build(ext: Path, node: Node | None = None) -> Path:
    """The built extension (package.json + dist/) in the cache; builds it when missing."""
    node = node or find_node()
    target = cache_root() / "extensions" / f"{ext.name}-{source_hash(ext)}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Another process may be building it: wait as long as its two npm commands may take (900 s each).
    with private.file_lock(target.parent / ".build.lock", "extension build lock", 2 * 900 + 60):
        if (target / ".complete").exists():
            return target
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name in SOURCES:
            src = ext / name
            if src.is_dir():
                shutil.copytree(src, staging / name)
            elif src.exists():
                shutil.copy2(src, staging / name)
        npm = [str(node.node), str(node.npm_cli)]
        with console.step(f"building extension {ext.name} (npm ci, tsc, directus-extension build)"):
            for args in (["ci", "--no-audit", "--no-fund", "--loglevel=warn"], ["run", "build"]):
                result = subprocess.run([*npm, *args], cwd=staging, env=node.env(), capture_output=True, text=True, timeout=900)
                if result.returncode != 0:
                    raise StackError(
                        f"extension {ext.name}: `npm {' '.join(args[:2])}` failed (exit {result.returncode})",
                        f"fix {ext}/src and try again",
                        step=f"extension {ext.name}",
                        log_tail="\n".join((result.stdout + result.stderr).splitlines()[-30:]),
                    )
        shutil.rmtree(staging / "node_modules", ignore_errors=True)
        (staging / ".complete").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def install_all(root: Path, dest: Path) -> list[str]:
    """Build every extension under `root` and place package.json + dist/ of each into `dest`."""
    names = []
    node = None
    for ext in discover(root):
        node = node or find_node()
        built = build(ext, node)
        out = Path(dest) / ext.name
        shutil.rmtree(out, ignore_errors=True)
        (out / "dist").mkdir(parents=True)
        shutil.copy2(built / "package.json", out / "package.json")
        shutil.copytree(built / "dist", out / "dist", dirs_exist_ok=True)
        names.append(ext.name)
    return names


CHECK_SOURCES = (*SOURCES, "test")


def _npm(node: Node, ext: Path, cwd: Path, *args: str) -> None:
    result = subprocess.run(
        [str(node.node), str(node.npm_cli), *args], cwd=cwd, env=node.env(), capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise StackError(
            f"extension {ext.name}: `npm {' '.join(args[:2])}` failed (exit {result.returncode})",
            f"fix {ext}/src or {ext}/test and try again",
            step=f"extension {ext.name}",
            log_tail="\n".join((result.stdout + result.stderr).splitlines()[-40:]),
        )
    console.info("\n".join(line for line in result.stdout.splitlines()[-6:] if line.strip()))


def check(ext: Path, node: Node | None = None) -> bool:
    """Type-check `ext` and run its unit tests; False when it has no `test` script (type-check only)."""
    import json

    node = node or find_node()
    scripts = json.loads((ext / "package.json").read_text()).get("scripts", {})
    lock = hashlib.sha256((ext / "package-lock.json").read_bytes()).hexdigest()[:12]
    work = cache_root() / "extensions-check" / f"{ext.name}-{lock}"
    work.mkdir(parents=True, exist_ok=True)
    with private.file_lock(work.parent / f"{ext.name}.lock", f"extension check lock of {ext.name}", 2 * 900 + 60):
        for name in CHECK_SOURCES:
            dst, src = work / name, ext / name
            shutil.rmtree(dst, ignore_errors=True) if dst.is_dir() else dst.unlink(missing_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            elif src.exists():
                shutil.copy2(src, dst)
        if not (work / "node_modules" / ".package-lock.json").exists():
            with console.step(f"npm ci for checking {ext.name}"):
                _npm(node, ext, work, "ci", "--no-audit", "--no-fund", "--loglevel=warn")
        with console.step(f"type-check {ext.name} (tsc --noEmit)"):
            _npm(node, ext, work, "run", "typecheck")
        if "test" not in scripts:
            return False
        with console.step(f"unit tests of {ext.name} (vitest)"):
            _npm(node, ext, work, "test")
    return True
