"""`diff`: what differs between the committed snapshot and a live instance (what `apply` would change)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import console
from ..errors import EXIT_DRIFT, SnapshotError
from ..schema import diff as diffs
from ..schema import snapshot
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("diff", help="compare the committed snapshot with a live Directus (create/update/delete)")
    _target.add(p)
    p.add_argument("--markdown", type=Path, help="also write the diff as Markdown (for a PR comment)")
    p.add_argument("--exit-code", action="store_true", help="exit 2 when there are differences")
    return p


def run(args: argparse.Namespace) -> int:
    path = _target.snapshot_path(args)
    committed = snapshot.read(path)
    if committed is None:
        raise SnapshotError(f"{path} is absent or blank: nothing to compare", "capture one with `invoke snapshot`")
    api = _target.client(args)
    live = _target.live_snapshot(api)
    d = diffs.compute(live, committed)
    console.out(f"{path} vs {api.url} (what `invoke apply` would change there):")
    console.out(d.render_text())
    if args.markdown:
        args.markdown.write_text(d.render_markdown(f"Schema diff: {path.name} vs {api.url}"))
    return EXIT_DRIFT if (args.exit_code and not d.empty) else 0
