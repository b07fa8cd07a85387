"""Dashboards (`directus_dashboards`, the Insights module), keyed by name."""

from __future__ import annotations

from typing import Any, ClassVar

from .kind import Kind, new_uuid


class Dashboards(Kind):
    section = "dashboards"
    singular = "dashboard"
    table = "directus_dashboards"
    key_fields = ("name",)
    fields = ("name", "icon", "color", "note")
    defaults: ClassVar[dict[str, Any]] = {"icon": "dashboard"}
    new_id = staticmethod(new_uuid)


KIND = Dashboards()
