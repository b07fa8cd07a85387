"""Presets (`directus_presets`): the default list layout of a collection, and global bookmarks.

Scope: rows of no user and no role, i.e. what every user sees until they change their own view
(Directus then stores a user preset, which is the user's and never touched here). Key:
(collection, bookmark) — bookmark null is the collection's default layout. Role-scoped presets
come with the access artifacts (issue 11), keyed by role name.
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg

from .kind import Item, Key, Kind


class Presets(Kind):
    section = "presets"
    singular = "preset"
    table = "directus_presets"
    scope = '"user" IS NULL AND "role" IS NULL'
    key_fields = ("collection", "bookmark")
    nullable_key_fields = frozenset({"bookmark"})  # null: the collection's default layout
    fields = (
        "collection",
        "bookmark",
        "layout",
        "layout_query",
        "layout_options",
        "search",
        "filter",
        "refresh_interval",
        "icon",
        "color",
    )
    defaults: ClassVar[dict[str, Any]] = {"layout": "tabular", "icon": "bookmark"}
    json_fields = frozenset({"layout_query", "layout_options", "filter"})

    def label(self, key: Key) -> str:
        collection, bookmark = key
        return f"{collection} (bookmark {bookmark!r})" if bookmark else f"{collection} (default layout)"

    def check(self, conn: psycopg.Connection, items: list[Item]) -> list[str]:
        known = {r[0] for r in conn.execute("SELECT collection FROM directus_collections")}
        return [
            f"preset {self.label(self.key(i))}: collection {i['collection']!r} does not exist"
            for i in items
            if i.get("collection") not in known and not str(i.get("collection")).startswith("directus_")
        ]


KIND = Presets()
