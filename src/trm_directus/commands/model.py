"""`model build`: create the scripted data model on a running Directus (dev tool; then `invoke snapshot`)."""

from __future__ import annotations

import argparse

from .. import console
from ..model import phase1
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("model", help="create the scripted Phase 1 data model through Directus's REST API")
    p.add_argument("verb", choices=["build"])
    _target.add(p, snapshot=False)
    return p


def run(args: argparse.Namespace) -> int:
    api = _target.client(args)
    with console.step(f"building the Phase 1 data model on {api.url}"):
        result = phase1.build(api)
    console.out(
        f"{len(result.created)} created, {len(result.updated)} updated, {result.unchanged} unchanged; now run `invoke snapshot`"
    )
    return 0
