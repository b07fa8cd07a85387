"""`snapshot`: capture the dev stack's live schema into snapshots/schema.yaml (Directus's own YAML)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console, paths
from ..errors import ConfigError
from ..schema import capture, snapshot
from ..schema import diff as diffs
from ..stacks import select
from ..stacks.compose import ComposeStack


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("snapshot", help="capture the dev stack's schema into snapshots/schema.yaml")
    p.add_argument("--out", type=Path, help="where to write it (default: snapshots/schema.yaml)")
    return p


def run(args: argparse.Namespace) -> int:
    root = paths.repo_root()
    out = args.out or root / "snapshots" / "schema.yaml"
    stack = select.dev_stack()
    if stack is None or not stack.running()["directus"]:
        raise ConfigError("the dev stack is not running", "start it with `invoke up`, change the schema, then snapshot")
    with console.step(f"capturing the schema of {stack.info.url} ({stack.backend})"):
        if isinstance(stack, ComposeStack):
            import docker

            text = capture.from_container(docker.from_env().containers.get(stack.container_id()))
        else:
            text = capture.from_native(stack)
    result = capture.clean(text, snapshot.owned_tables(root / "db-init"))
    if result.ghosts:
        console.warn(f"left out db-init-owned tables shown as collections: {', '.join(result.ghosts)}")
    previous = snapshot.read(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.text)
    data = result.data
    console.out(
        f"wrote {out}: {len(data['collections'])} collections, {len(data['fields'])} fields, "
        f"{len(data['relations'])} relations (Directus {data['directus']})"
    )
    if previous is not None:
        change = diffs.compute(previous, data)
        console.out("changes since the previous snapshot:" if not change.empty else "no changes since the previous snapshot")
        if not change.empty:
            console.out(change.render_text({"create": "added", "update": "changed", "delete": "removed"}))
    return 0
