"""`invoke snapshot`: capture a running stack's schema in Directus's own YAML, minus db-init-owned tables.

native: Directus's CLI with the stack's configuration; compose: the CLI inside the container (docker
SDK exec), and the file copied out. The text Directus wrote is kept byte for byte; ghost
collections of db-init-owned tables (lessons.md) are cut out of it item by item, and the result
is checked to parse to exactly the filtered snapshot.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import console
from ..documents import yamlio
from ..errors import SnapshotError, StackError
from . import snapshot

CONTAINER_PATH = "/tmp/trm-snapshot.yaml"


@dataclass
class Capture:
    text: str
    data: snapshot.Snapshot
    ghosts: list[str]


def from_native(stack) -> str:
    env = stack.boot_env()
    with tempfile.TemporaryDirectory(prefix="trm-capture-") as tmp:
        out = Path(tmp) / "schema.yaml"
        cmd = [*stack.install.cli_command(), "schema", "snapshot", "--yes", "--format", "yaml", str(out)]
        result = subprocess.run(cmd, cwd=stack.install.root, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not out.exists():
            raise StackError(
                "directus schema snapshot failed",
                "is the stack up? (`invoke status`)",
                step="schema snapshot",
                log_tail=(result.stdout + result.stderr)[-3000:],
            )
        return out.read_text()


def from_container(container) -> str:
    """Run the CLI inside a container (docker SDK) and copy the snapshot file out of it."""
    code, output = container.exec_run(
        ["node", "/directus/cli.js", "schema", "snapshot", "--yes", "--format", "yaml", CONTAINER_PATH]
    )
    if code != 0:
        raise StackError(
            "directus schema snapshot failed in the container",
            "see its output below",
            step="schema snapshot",
            log_tail=output.decode(errors="replace")[-3000:],
        )
    stream, _ = container.get_archive(CONTAINER_PATH)
    return read_tar_member(b"".join(stream), Path(CONTAINER_PATH).name)


def read_tar_member(archive: bytes, name: str) -> str:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile(name)
        if member is None:
            raise StackError(f"{name} is not a file in the archive the container returned")
        return member.read().decode("utf-8")


def cut_items(text: str, drop: set[str]) -> str:
    """Remove list items whose collection (or related collection) is in `drop`, keeping all other text as is."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    block: list[str] = []
    section_items = 0
    section_header_index = -1

    def flush() -> None:
        nonlocal section_items
        if not block:
            return
        item = yamlio.load("".join(line[2:] if line.startswith("  ") else line for line in block), "captured snapshot")[0]
        if not (isinstance(item, dict) and (item.get("collection") in drop or item.get("related_collection") in drop)):
            out.extend(block)
            section_items += 1
        block.clear()

    def close_section() -> None:
        if section_header_index >= 0 and section_items == 0:
            out[section_header_index] = out[section_header_index].rstrip("\n").rstrip() + " []\n"

    for line in lines:
        if line.startswith("  - "):
            flush()
            block.append(line)
        elif line.startswith("    ") and block:
            block.append(line)
        else:
            flush()
            if not line.startswith(" "):
                close_section()
                section_items = 0
                section_header_index = len(out) if line.rstrip().endswith(":") else -1
            out.append(line)
    flush()
    close_section()
    return "".join(out)


def clean(text: str, owned: set[str]) -> Capture:
    """Parse a captured snapshot, check it, and remove ghost collections of db-init-owned tables."""
    data = snapshot.parse(text, "captured snapshot")
    if data is None:
        raise SnapshotError("Directus returned an empty snapshot", "check the stack with `invoke status`")
    if not data.get("systemFields"):
        raise SnapshotError(
            "the captured snapshot has no systemFields section",
            "keep it: without it, apply drops three system indexes (lessons.md)",
        )
    filtered, ghosts = snapshot.without_tables(data, owned)
    if not ghosts:
        return Capture(text, data, [])
    new_text = cut_items(text, set(ghosts))
    if yamlio.load(new_text, "captured snapshot", error=SnapshotError) != filtered:
        console.warn("could not cut ghost collections out of Directus's text exactly; re-serialised the snapshot")
        new_text = snapshot.dump(filtered)
    return Capture(new_text, filtered, ghosts)
