"""The one list of data-model domains, in build order, and the build of all of them.

A domain module (catalogue, registration, course, timing, …) defines FOLDER, COLLECTIONS, RELATIONS and
ORDER (and optionally USER_FIELDS); a later domain may append fields to an earlier collection's
form order (e.g. course adds `stages` to events). Add a new domain here and nowhere else.
"""

from __future__ import annotations

from types import ModuleType

from . import catalogue, course, operations, registration, timing

DOMAINS: tuple[ModuleType, ...] = (catalogue, registration, course, timing, operations)


def collections() -> list:
    return [c for d in DOMAINS for c in d.COLLECTIONS]


def collection_names() -> list[str]:
    return [c.name for c in collections()]


def relations() -> list:
    return [r for d in DOMAINS for r in d.RELATIONS]


def order() -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for d in DOMAINS:
        for collection, names in d.ORDER.items():
            merged.setdefault(collection, []).extend(names)
    return merged


def build(api):
    """Create/update every domain's collections, fields and relations on a running Directus (builder.build)."""
    from .builder import build as build_model

    return build_model(
        api,
        folders=[d.FOLDER for d in DOMAINS],
        collections=collections(),
        user_fields=[f for d in DOMAINS for f in getattr(d, "USER_FIELDS", [])],
        relations=relations(),
        order=order(),
    )
