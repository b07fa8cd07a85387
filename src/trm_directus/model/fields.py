"""Small constructors for Directus collection/field/relation definitions (REST payloads).

They produce exactly what the admin UI would POST, so a data model can be scripted through the
REST API and then captured with `invoke snapshot` (the snapshot, not this code, is the artifact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SLUG_RE = "^[a-z0-9]+(?:-[a-z0-9]+)*$"


def string_pk(
    name: str, *, note: str, max_length: int = 40, regex: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """A primary key people type and read (a code such as `getgps`), instead of a generated uuid."""
    return {
        "field": name,
        "type": "string",
        "meta": _meta(
            note,
            "half",
            True,
            interface="input",
            options={"font": "monospace", "trim": True},
            validation=_rule(name, [{name: {"_regex": regex}}] if regex else [], True),
            validation_message=message,
        ),
        "schema": {"is_primary_key": True, "max_length": max_length, "has_auto_increment": False, "is_nullable": False},
    }


def uuid_pk() -> dict[str, Any]:
    return {
        "field": "id",
        "type": "uuid",
        "meta": {"hidden": True, "readonly": True, "interface": "input", "special": ["uuid"], "width": "full"},
        "schema": {"is_primary_key": True, "length": 36, "has_auto_increment": False},
    }


def _rule(name: str, rules: list[dict[str, Any]], required: bool) -> dict[str, Any] | None:
    """A validation filter; optional fields also accept null (clearing the field in the UI sends null)."""
    if not rules:
        return None
    if required:
        return {"_and": rules}
    return {"_or": [{name: {"_null": True}}, {"_and": rules}]}


def _meta(note: str | None, width: str, required: bool, **extra: Any) -> dict[str, Any]:
    meta = {"note": note, "width": width, "required": required}
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def string(
    name: str,
    *,
    note: str | None = None,
    required: bool = False,
    unique: bool = False,
    max_length: int = 255,
    width: str = "half",
    regex: str | None = None,
    message: str | None = None,
    placeholder: str | None = None,
    default: str | None = None,
    font: str | None = None,
) -> dict[str, Any]:
    options = {k: v for k, v in {"placeholder": placeholder, "font": font, "trim": True}.items() if v is not None}
    return {
        "field": name,
        "type": "string",
        "meta": _meta(
            note,
            width,
            required,
            interface="input",
            options=options,
            validation=_rule(name, [{name: {"_regex": regex}}] if regex else [], required),
            validation_message=message,
        ),
        "schema": {"max_length": max_length, "is_nullable": not required, "is_unique": unique, "default_value": default},
    }


def text(name: str, *, note: str | None = None, width: str = "full") -> dict[str, Any]:
    return {
        "field": name,
        "type": "text",
        "meta": _meta(note, width, False, interface="input-multiline"),
        "schema": {"is_nullable": True},
    }


def integer(
    name: str,
    *,
    note: str | None = None,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
    width: str = "half",
    default: int | None = None,
) -> dict[str, Any]:
    rules = []
    if minimum is not None:
        rules.append({name: {"_gte": minimum}})
    if maximum is not None:
        rules.append({name: {"_lte": maximum}})
    options = {k: v for k, v in {"min": minimum, "max": maximum}.items() if v is not None}
    message = None
    if rules:
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        message = f"{name} must be {bounds}"
    return {
        "field": name,
        "type": "integer",
        "meta": _meta(
            note,
            width,
            required,
            interface="input",
            options=options or None,
            validation=_rule(name, rules, required),
            validation_message=message,
        ),
        "schema": {"is_nullable": not required, "default_value": default},
    }


def choice(
    name: str,
    choices: list[str],
    *,
    note: str | None = None,
    required: bool = True,
    default: str | None = None,
    width: str = "half",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = labels or {}
    return {
        "field": name,
        "type": "string",
        "meta": _meta(
            note,
            width,
            required,
            interface="select-dropdown",
            display="labels",
            options={"choices": [{"text": labels.get(c, c), "value": c} for c in choices]},
            display_options={"choices": [{"text": labels.get(c, c), "value": c} for c in choices]},
            validation=_rule(name, [{name: {"_in": choices}}], required),
            validation_message=f"{name} must be one of: {', '.join(choices)}",
        ),
        "schema": {"max_length": 40, "is_nullable": not required, "default_value": default},
    }


def timestamp(
    name: str, *, note: str | None = None, required: bool = False, special: str | None = None, width: str = "half"
) -> dict[str, Any]:
    """timestamptz; `special` date-created / date-updated makes Directus fill it (read-only in the UI)."""
    meta = _meta(
        note, width, required, interface="datetime", display="datetime", display_options={"relative": True} if special else None
    )
    if special:
        meta.update(special=[special], readonly=True, hidden=False)
    schema: dict[str, Any] = {"is_nullable": not required}
    if special == "date-created":
        schema["default_value"] = "CURRENT_TIMESTAMP"
    return {"field": name, "type": "timestamp", "meta": meta, "schema": schema}


def date(name: str, *, note: str | None = None, width: str = "half") -> dict[str, Any]:
    return {
        "field": name,
        "type": "date",
        "meta": _meta(note, width, False, interface="datetime"),
        "schema": {"is_nullable": True},
    }


def number(
    name: str, *, note: str | None = None, minimum: float | None = None, maximum: float | None = None, width: str = "half"
) -> dict[str, Any]:
    """A float (e.g. odometer kilometres), optional, with an inclusive range."""
    rules = [{name: {op: v}} for op, v in (("_gte", minimum), ("_lte", maximum)) if v is not None]
    return {
        "field": name,
        "type": "float",
        "meta": _meta(
            note,
            width,
            False,
            interface="input",
            validation=_rule(name, rules, False),
            validation_message=f"{name} must be between {minimum} and {maximum}" if rules else None,
        ),
        "schema": {"is_nullable": True},
    }


def boolean(name: str, *, note: str | None = None, default: bool = False, width: str = "half") -> dict[str, Any]:
    return {
        "field": name,
        "type": "boolean",
        "meta": _meta(note, width, False, interface="boolean", display="boolean", special=["cast-boolean"]),
        "schema": {"is_nullable": False, "default_value": default},
    }


def json_field(name: str, *, note: str | None = None, width: str = "full") -> dict[str, Any]:
    return {
        "field": name,
        "type": "json",
        "meta": _meta(note, width, False, interface="input-code", options={"language": "JSON"}, special=["cast-json"]),
        "schema": {"is_nullable": True},
    }


def geometry(name: str, kind: str | None, *, note: str | None = None, required: bool = True) -> dict[str, Any]:
    """A PostGIS geometry in SRID 4326 (`kind` Point / LineString / Polygon, None for any), edited on a map.

    Through the REST API the value is GeoJSON ({"type": "Point", "coordinates": [lon, lat]})."""
    options: dict[str, Any] = {"defaultView": {"center": {"lng": 19.82, "lat": 41.33}, "zoom": 7, "bearing": 0, "pitch": 0}}
    if kind:
        options["geometryType"] = kind
    return {
        "field": name,
        "type": f"geometry.{kind}" if kind else "geometry",
        "meta": _meta(note, "full", required, interface="map", options=options),
        "schema": {"is_nullable": not required},
    }


def uuid_value(name: str, *, note: str | None = None, width: str = "half") -> dict[str, Any]:
    """A plain uuid (no relation), e.g. the target of a polymorphic reference whose table varies per row."""
    return {
        "field": name,
        "type": "uuid",
        "meta": _meta(note, width, False, interface="input", options={"font": "monospace"}),
        "schema": {"is_nullable": True},
    }


def readonly(payload: dict[str, Any]) -> dict[str, Any]:
    """Mark a field read-only in the admin UI (a value the database computes)."""
    payload["meta"]["readonly"] = True
    return payload


def created_updated() -> list[dict[str, Any]]:
    return [
        timestamp("created_at", special="date-created", note="Set by Directus when the item is created."),
        timestamp("updated_at", special="date-updated", note="Set by Directus on every change."),
    ]


def relation_label(field_name: str) -> str:
    """A many-to-one key as an operator reads it: `class_id` -> "Class", `dz_waypoint_id` -> "Dz waypoint"
    (Directus would show "Class ID", the database's word, not the operator's)."""
    words = field_name.removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def label_translations(label: str) -> list[dict[str, str]]:
    """Field meta translations: the label the admin UI shows (its language is en-US unless a user picks one)."""
    return [{"language": "en-US", "translation": label}]


@dataclass
class M2O:
    """A many-to-one field, its foreign key, and optionally the one-to-many alias on the other side."""

    collection: str
    field: str
    related: str
    template: str
    note: str | None = None
    required: bool = True
    on_delete: str = "RESTRICT"
    alias: str | None = None  # o2m field on `related`
    alias_template: str | None = None
    alias_note: str | None = None
    width: str = "half"
    indexed: bool = False  # a B-tree index Directus owns (is_indexed), for lookups no composite index covers
    label: str | None = None  # what forms and list headers show; default: the field without "_id", as words
    key_length: int | None = None  # the related collection's primary key is a string of this length (string_pk)
    special: tuple[str, ...] = ("m2o",)  # ("user-created",): Directus fills it with the creating user

    def field_payload(self) -> dict[str, Any]:
        key = {"max_length": self.key_length} if self.key_length else {}
        return {
            "field": self.field,
            "type": "string" if self.key_length else "uuid",
            "meta": _meta(
                self.note,
                self.width,
                self.required,
                interface="select-dropdown-m2o",
                special=list(self.special),
                readonly=True if "user-created" in self.special else None,
                options={"template": self.template},
                display="related-values",
                display_options={"template": self.template},
                translations=label_translations(self.label or relation_label(self.field)),
            ),
            "schema": {"is_nullable": not self.required, **key, **({"is_indexed": True} if self.indexed else {})},
        }

    def relation_payload(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "field": self.field,
            "related_collection": self.related,
            "schema": {"on_delete": self.on_delete, "on_update": "NO ACTION"},
            "meta": {"one_field": self.alias, "sort_field": None, "one_deselect_action": "nullify"},
        }

    def alias_payload(self) -> dict[str, Any] | None:
        if not self.alias:
            return None
        return {
            "field": self.alias,
            "type": "alias",
            "meta": {
                "special": ["o2m"],
                "interface": "list-o2m",
                "note": self.alias_note,
                "width": "full",
                "options": {"template": self.alias_template or "{{id}}", "enableCreate": True, "enableSelect": False},
                "display": "related-values",
                "display_options": {"template": self.alias_template or "{{id}}"},
            },
            "schema": None,
        }


@dataclass
class Collection:
    name: str
    icon: str
    note: str
    template: str
    fields: list[dict[str, Any]] = field(default_factory=list)
    group: str | None = None
    sort: int | None = None
    sort_field: str | None = None
    archive: tuple[str, str, str] | None = None  # field, archive value, unarchive value
    color: str | None = None
    primary: dict[str, Any] | None = None  # default: a uuid `id` (uuid_pk); string_pk for a typed code

    def payload(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "icon": self.icon,
            "note": self.note,
            "display_template": self.template,
            "group": self.group,
            "sort": self.sort,
            "sort_field": self.sort_field,
            "collapse": "open",
            "accountability": "all",
            "color": self.color,
        }
        if self.archive:
            meta.update(
                archive_field=self.archive[0],
                archive_value=self.archive[1],
                unarchive_value=self.archive[2],
                archive_app_filter=True,
            )
        fields = [self.primary or uuid_pk(), *self.fields]
        for i, f in enumerate(fields, start=1):
            f["meta"]["sort"] = i
        return {"collection": self.name, "meta": meta, "schema": {}, "fields": fields}


@dataclass
class Folder:
    name: str
    icon: str
    note: str
    sort: int

    def payload(self) -> dict[str, Any]:
        return {
            "collection": self.name,
            "meta": {"icon": self.icon, "note": self.note, "sort": self.sort, "collapse": "open", "hidden": False},
            "schema": None,
        }
