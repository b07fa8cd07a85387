"""`model build`: create the scripted data model on a running Directus (dev tool; then `invoke snapshot`)."""

from __future__ import annotations

import argparse

from .. import console
from ..model import registry
from . import _target


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("model", help="create the scripted data model (model/registry.py) through the REST API")
    p.add_argument("verb", choices=["build"])
    _target.add(p, snapshot=False)
    return p


def run(args: argparse.Namespace) -> int:
    api = _target.client(args)
    with console.step(f"building the data model (catalogue, registration, course) on {api.url}"):
        result = registry.build(api)
    console.out(
        f"{len(result.created)} created, {len(result.updated)} updated, {result.unchanged} unchanged; now run `invoke snapshot`"
    )
    return 0
