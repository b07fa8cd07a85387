"""The drift gate's normalisation: differences that are not drift, each one named in the report.

Applied to both sides of a comparison (committed snapshot and fresh snapshot), item by item:
1. order of collections, fields and relations: items are compared by key, never by position;
2. `meta.sort` of fields: changes when someone drags fields in the admin UI;
3. defaults that do not round-trip textually: `nextval('…'::regclass)` -> `nextval(…)`,
   `now()` / `CURRENT_TIMESTAMP` -> `now()`;
4. data types that do not round-trip: `geography` -> `geometry`, `jsonb` -> `json`;
5. the snapshot's `directus:` version is not compared here: the pin check covers it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

_NEXTVAL = re.compile(r"^nextval\('.*'(::regclass)?\)$", re.IGNORECASE)
_NOW = {"now()", "current_timestamp", "current_timestamp()", "transaction_timestamp()"}
_TYPES = {"geography": "geometry", "jsonb": "json"}


def normalise(section: str, item: dict[str, Any]) -> dict[str, Any]:
    """A normalised copy of one snapshot item (fields only; other sections compare as they are)."""
    if section != "fields":
        return item
    out = copy.deepcopy(item)
    (out.get("meta") or {}).pop("sort", None)
    schema = out.get("schema") or {}
    default = schema.get("default_value")
    if isinstance(default, str):
        if _NEXTVAL.match(default):
            schema["default_value"] = "nextval(…)"
        elif default.strip().lower() in _NOW:
            schema["default_value"] = "now()"
    data_type = schema.get("data_type")
    if isinstance(data_type, str) and data_type.lower() in _TYPES:
        schema["data_type"] = _TYPES[data_type.lower()]
    return out
