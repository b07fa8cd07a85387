"""Create a data model through Directus's REST API, idempotently (only what is missing is created)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import console
from ..directus.api import Directus
from .fields import M2O, Collection, Folder


@dataclass
class BuildResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def _meta_differs(want: dict[str, Any], have: dict[str, Any] | None) -> bool:
    have = have or {}
    return any(have.get(k) != v for k, v in want.items() if k != "sort")


def build(
    api: Directus,
    *,
    folders: Iterable[Folder],
    collections: Iterable[Collection],
    user_fields: Iterable[dict],
    relations: Iterable[M2O],
    order: dict[str, list[str]],
) -> BuildResult:
    result = BuildResult()
    have = {c["collection"]: c for c in api.get("/collections", limit=-1)}
    fields: dict[str, dict[str, dict]] = {}

    def field_names(collection: str) -> dict[str, dict]:
        if collection not in fields:
            fields[collection] = {f["field"]: f for f in api.get(f"/fields/{collection}")}
        return fields[collection]

    def update_meta(kind: str, name: str, path: str, want: dict[str, Any], have_meta: dict | None) -> None:
        if _meta_differs(want, have_meta):
            api.patch(path, {"meta": {k: v for k, v in want.items() if k != "sort"}})
            result.updated.append(f"{kind} {name}")
            console.info(f"   updated {kind} {name}")
        else:
            result.unchanged += 1

    def ensure_field(collection: str, payload: dict[str, Any]) -> None:
        name = payload["field"]
        existing = field_names(collection).get(name)
        if existing is None:
            create("field", f"{collection}.{name}", f"/fields/{collection}", payload)
        else:
            update_meta("field", f"{collection}.{name}", f"/fields/{collection}/{name}", payload["meta"], existing["meta"])

    def create(kind: str, name: str, path: str, payload: dict[str, Any]) -> None:
        api.post(path, payload)
        result.created.append(f"{kind} {name}")
        console.info(f"   created {kind} {name}")

    for item in [*folders, *collections]:
        payload = item.payload()
        if item.name not in have:
            create("collection", item.name, "/collections", payload)
            continue
        update_meta("collection", item.name, f"/collections/{item.name}", payload["meta"], have[item.name]["meta"])
        for f in payload.get("fields", []):
            ensure_field(item.name, f)
    for f in user_fields:
        ensure_field("directus_users", f)
    relations_have = {(r["collection"], r["field"]) for r in api.get("/relations")}
    for rel in relations:
        ensure_field(rel.collection, rel.field_payload())
        alias = rel.alias_payload()
        if alias:
            ensure_field(rel.related, alias)
        if (rel.collection, rel.field) in relations_have:
            result.unchanged += 1
        else:
            create("relation", f"{rel.collection}.{rel.field} -> {rel.related}", "/relations", rel.relation_payload())
    for collection, names in order.items():
        api.patch(f"/fields/{collection}", [{"field": n, "meta": {"sort": i}} for i, n in enumerate(names, start=1)])
    return result
