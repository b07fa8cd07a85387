"""One Directus system collection as code: fetch, normalize, diff and apply by natural key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from psycopg.types.json import Json

from ..errors import ArtifactError

Item = dict[str, Any]
Key = tuple


def canonical(value: Any) -> Any:
    """JSON with mapping keys sorted (lists keep their order: column order matters)."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class KindDiff:
    """What applying the desired items would change: `{to_create, to_update, to_delete, unchanged}`."""

    kind: Kind
    to_create: list[Item] = field(default_factory=list)
    to_update: list[tuple[Item, Item]] = field(default_factory=list)  # (current, desired)
    to_delete: list[Item] = field(default_factory=list)
    unchanged: list[Key] = field(default_factory=list)
    ids: dict[Key, Any] = field(default_factory=dict)  # database id of every current item

    @property
    def empty(self) -> bool:
        return not (self.to_create or self.to_update or self.to_delete)

    def lines(self, *, create: str = "create {}", update: str = "update {}", delete: str = "delete {}") -> list[str]:
        """One line per change; the verbs are templates ("keep {} (not in the file)")."""
        k = self.kind

        def name(item: Item) -> str:
            return f"{k.singular} {k.label(k.key(item))}"

        out = ["  " + create.format(name(i)) for i in self.to_create]
        for current, desired in self.to_update:
            changed = [f for f in k.fields if current.get(f) != desired.get(f)]
            out.append("  " + update.format(name(desired)) + f": {', '.join(changed)}")
        out += ["  " + delete.format(name(i)) for i in self.to_delete]
        return out

    def summary(self) -> str:
        parts = [f"{len(v)} {name}" for name, v in (("to create", self.to_create), ("to update", self.to_update)) if v]
        if self.to_delete:
            parts.append(f"{len(self.to_delete)} not in the file")
        parts.append(f"{len(self.unchanged)} unchanged")
        return f"{self.kind.section} " + ", ".join(parts)


class Kind:
    """Base of every artifact kind. A subclass names its table, scope, key and fields; it overrides
    `from_row`/`to_row` when a column holds a reference (an id in the database, a name in the file)."""

    section: ClassVar[str]  # key in the artifact file, e.g. "presets"
    singular: ClassVar[str]  # for messages, e.g. "preset"
    table: ClassVar[str]  # Directus system table, e.g. "directus_presets"
    scope: ClassVar[str] = "TRUE"  # SQL condition selecting the rows this kind manages
    key_fields: ClassVar[tuple[str, ...]]
    nullable_key_fields: ClassVar[frozenset[str]] = frozenset()  # key fields that may be null
    fields: ClassVar[tuple[str, ...]]  # artifact fields in file order, key fields first
    defaults: ClassVar[dict[str, Any]] = {}  # value of a field the file leaves out (else None)
    json_fields: ClassVar[frozenset[str]] = frozenset()
    references: ClassVar[dict[str, str]] = {}  # artifact field -> section whose key it names
    new_id: ClassVar[Callable[[], Any] | None] = None  # None: the database assigns the id
    # Rows in the database but not in the file: deleted at boot only when True (access rules will
    # want that); UI artifacts keep what operators created and report it.
    prune_at_boot: ClassVar[bool] = False

    # -- keys -------------------------------------------------------------------------------------

    def key(self, item: Item) -> Key:
        return tuple(item.get(f) for f in self.key_fields)

    def label(self, key: Key) -> str:
        return " · ".join(str(k) for k in key if k is not None)

    def sort_key(self, item: Item) -> tuple:
        return tuple((v is not None, str(v)) for v in self.key(item))

    # -- normalize --------------------------------------------------------------------------------

    def normalize(self, item: Item) -> Item:
        """The artifact form: every field in file order, defaults filled in, JSON keys sorted."""
        out = {}
        for f in self.fields:
            value = item.get(f, self.defaults.get(f))
            out[f] = canonical(value) if f in self.json_fields else value
        return out

    # -- fetch ------------------------------------------------------------------------------------

    def columns(self) -> tuple[str, ...]:
        return self.fields

    def from_row(self, conn: psycopg.Connection, row: dict[str, Any]) -> Item:
        return self.normalize(row)

    def to_row(self, conn: psycopg.Connection, item: Item) -> dict[str, Any]:
        return {c: item.get(c) for c in self.columns()}

    def fetch(self, conn: psycopg.Connection) -> tuple[dict[Key, Item], dict[Key, Any]]:
        """The managed rows in artifact form by key, and their database ids by key."""
        query = sql.SQL("SELECT {id}, {cols} FROM {table} WHERE {scope} ORDER BY {id}").format(
            id=sql.Identifier("id"),
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in self.columns()),
            table=sql.Identifier(self.table),
            scope=sql.SQL(self.scope),
        )
        items: dict[Key, Item] = {}
        ids: dict[Key, Any] = {}
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            for row in cur.execute(query):
                row_id = row.pop("id")
                item = self.from_row(conn, row)
                key = self.key(item)
                if key in items:
                    raise ArtifactError(
                        f"{self.table}: two rows share the key {self.label(key)!r} (ids {ids[key]} and {row_id})",
                        f"rename or delete one of them in the admin UI: {self.section} are identified by "
                        f"{' + '.join(self.key_fields)}, never by database id",
                    )
                items[key] = item
                ids[key] = row_id
        return items, ids

    # -- diff -------------------------------------------------------------------------------------

    def diff(self, current: dict[Key, Item], ids: dict[Key, Any], desired: list[Item]) -> KindDiff:
        d = KindDiff(self, ids=dict(ids))
        wanted = {self.key(i): self.normalize(i) for i in desired}
        for key, item in wanted.items():
            have = current.get(key)
            if have is None:
                d.to_create.append(item)
            elif have != item:
                d.to_update.append((have, item))
            else:
                d.unchanged.append(key)
        d.to_delete = [item for key, item in current.items() if key not in wanted]
        return d

    # -- apply ------------------------------------------------------------------------------------

    def check(self, conn: psycopg.Connection, items: list[Item]) -> list[str]:
        """Problems that make the items unusable on this database (e.g. an unknown collection)."""
        return []

    def _values(self, conn: psycopg.Connection, item: Item) -> dict[str, Any]:
        row = self.to_row(conn, item)
        return {c: Json(v) if c in self.json_fields and v is not None else v for c, v in row.items()}

    def apply_writes(self, conn: psycopg.Connection, d: KindDiff) -> None:
        """Creates and updates (deletions run separately, in reverse registry order)."""
        for item in d.to_create:
            values = self._values(conn, item)
            if self.new_id is not None:
                values = {"id": self.new_id(), **values}
            conn.execute(
                sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals})").format(
                    t=sql.Identifier(self.table),
                    cols=sql.SQL(", ").join(sql.Identifier(c) for c in values),
                    vals=sql.SQL(", ").join(sql.Placeholder() for _ in values),
                ),
                list(values.values()),
            )
        for _, item in d.to_update:
            values = self._values(conn, item)
            conn.execute(
                sql.SQL("UPDATE {t} SET {sets} WHERE id = %s").format(
                    t=sql.Identifier(self.table),
                    sets=sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values),
                ),
                [*values.values(), d.ids[self.key(item)]],
            )

    def apply_deletes(self, conn: psycopg.Connection, d: KindDiff) -> None:
        ids = [d.ids[self.key(i)] for i in d.to_delete]
        if ids:
            conn.execute(sql.SQL("DELETE FROM {t} WHERE id = ANY(%s)").format(t=sql.Identifier(self.table)), [ids])
