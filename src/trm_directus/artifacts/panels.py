"""Panels (`directus_panels`) of Insights dashboards, keyed by (dashboard name, panel name).

In the database a panel points at its dashboard by id; in the file by the dashboard's name, so the
file never carries a database id. Every panel needs a name (it is the key).
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg

from ..errors import ArtifactError
from .kind import Item, Kind, new_uuid


class Panels(Kind):
    section = "panels"
    singular = "panel"
    table = "directus_panels"
    key_fields = ("dashboard", "name")
    fields = (
        "dashboard",
        "name",
        "type",
        "icon",
        "color",
        "show_header",
        "note",
        "position_x",
        "position_y",
        "width",
        "height",
        "options",
    )
    defaults: ClassVar[dict[str, Any]] = {"show_header": True}
    json_fields = frozenset({"options"})
    references: ClassVar[dict[str, str]] = {"dashboard": "dashboards"}
    new_id = staticmethod(new_uuid)

    def sort_key(self, item: Item) -> tuple:
        # Reading order on the dashboard: top to bottom, left to right.
        return (str(item.get("dashboard")), item.get("position_y") or 0, item.get("position_x") or 0, str(item.get("name")))

    _names: dict[str, str]

    def _dashboards(self, conn: psycopg.Connection) -> dict[str, str]:
        return {str(i): n for i, n in conn.execute("SELECT id, name FROM directus_dashboards")}

    def fetch(self, conn: psycopg.Connection):
        self._names = self._dashboards(conn)
        return super().fetch(conn)

    def apply_writes(self, conn: psycopg.Connection, d) -> None:
        self._names = self._dashboards(conn)  # after the dashboards of this apply were created
        super().apply_writes(conn, d)

    def from_row(self, conn: psycopg.Connection, row: dict[str, Any]) -> Item:
        item = self.normalize({**row, "dashboard": self._names.get(str(row["dashboard"]), row["dashboard"])})
        if not item["name"]:
            raise ArtifactError(
                f"a {item['type']} panel of dashboard {item['dashboard']!r} has no name",
                "give every panel a name in the admin UI (panels are identified by dashboard and name)",
            )
        return item

    def to_row(self, conn: psycopg.Connection, item: Item) -> dict[str, Any]:
        ids = {n: i for i, n in self._names.items()}
        if item["dashboard"] not in ids:
            raise ArtifactError(f"panel {self.label(self.key(item))}: no dashboard named {item['dashboard']!r}")
        return {**super().to_row(conn, item), "dashboard": ids[item["dashboard"]]}


KIND = Panels()
