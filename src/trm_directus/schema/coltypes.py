"""Column types as PostgreSQL sees them, and what converting a column from one to another does to its data.

The old type comes from the database's snapshot (`schema.data_type`, lengths, precision); the new
type is what Directus (knex) will emit for the target field: it is derived from the Directus `type`
(string → varchar(max_length or 255), float → real, dateTime → timestamp, timestamp → timestamptz, …),
because that, not the snapshot's `data_type`, decides the `ALTER COLUMN … TYPE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SAFE, DESTRUCTIVE, CHECK = "safe", "destructive", "needs-data-check"


@dataclass(frozen=True)
class SqlType:
    base: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def normal(self) -> SqlType:
        """Only the attributes that matter for the base type (information_schema reports precision for ints too)."""
        if self.base in ("varchar", "char"):
            return SqlType(self.base, self.length)
        if self.base == "numeric":
            return SqlType(self.base, None, self.precision, self.scale)
        return SqlType(self.base)

    def __str__(self) -> str:
        if self.base in ("varchar", "char") and self.length:
            return f"{self.base}({self.length})"
        if self.base == "numeric" and self.precision is not None:
            return f"numeric({self.precision},{self.scale or 0})"
        return self.base

    @property
    def castable(self) -> bool:
        """Safe to put in SQL as a type name (it came from a file: never trust it blindly)."""
        return bool(re.fullmatch(r"[a-z][a-z ]*(\(\d+(,\d+)?\))?", str(self)))


@dataclass(frozen=True)
class Conversion:
    verdict: str
    reason: str
    sql: str = ""  # counts affected rows, one count per effect; {t} {c} table and column, {new} {old} the types
    effects: tuple[tuple[str, bool], ...] = ()  # per count: (what happens to those rows, whether it makes the apply fail)


def _c(verdict: str, reason: str, sql: str = "", effect: str = "", blocks: bool = False) -> Conversion:
    return Conversion(verdict, reason, sql, ((effect, blocks),) if sql else ())


_PG = {
    "character varying": "varchar",
    "varchar": "varchar",
    "character": "char",
    "bpchar": "char",
    "text": "text",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "real": "real",
    "double precision": "double precision",
    "numeric": "numeric",
    "decimal": "numeric",
    "boolean": "boolean",
    "date": "date",
    "time without time zone": "time",
    "time": "time",
    "timestamp without time zone": "timestamp",
    "timestamp": "timestamp",
    "timestamp with time zone": "timestamptz",
    "timestamptz": "timestamptz",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "jsonb",
}
_DIRECTUS = {
    "text": "text",
    "csv": "text",
    "integer": "integer",
    "bigInteger": "bigint",
    "float": "real",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "dateTime": "timestamp",
    "timestamp": "timestamptz",
    "json": "json",
    "uuid": "uuid",
}
INT_BITS = {"smallint": 16, "integer": 32, "bigint": 64}
INT_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}
TEXTS = {"varchar", "char", "text"}
FLOATS = {"real": 24, "double precision": 53}  # mantissa bits


def of_column(schema: dict[str, Any]) -> SqlType:
    """The column's type as the database has it (from a snapshot's `schema`)."""
    raw = str(schema.get("data_type") or "").lower()
    base = _PG.get(raw, raw)
    return SqlType(base, schema.get("max_length"), schema.get("numeric_precision"), schema.get("numeric_scale")).normal()


def of_field(field: dict[str, Any]) -> SqlType:
    """The type Directus will give the column for this field (what `ALTER COLUMN … TYPE` uses)."""
    kind, schema = field.get("type"), field.get("schema") or {}
    if kind == "string":
        return SqlType("varchar", schema.get("max_length") or 255)
    if kind == "hash":
        return SqlType("varchar", 255)
    if kind == "decimal":
        return SqlType("numeric", None, schema.get("numeric_precision") or 10, schema.get("numeric_scale") or 5)
    if kind in _DIRECTUS:
        return SqlType(_DIRECTUS[kind])
    if str(kind).startswith("geometry"):
        return SqlType("geometry")
    return of_column(schema)


ROUNDTRIP = (
    "SELECT count(*) FILTER (WHERE r = 2), count(*) FILTER (WHERE r = 1)"
    " FROM (SELECT pg_temp.trm_convert({c}, {new}, {old}) AS r FROM {t} WHERE {c} IS NOT NULL) AS s"
)


def conversion(old: SqlType, new: SqlType) -> Conversion | None:
    """What `ALTER COLUMN … TYPE new USING col::new` does to existing values (None: same type)."""
    if old == new:
        return None
    ob, nb = old.base, new.base
    if nb == "text" and old.castable:
        return _c(SAFE, "every value has a text form")
    if nb in ("varchar", "char") and new.length:
        longer = "SELECT count(*) FROM {t} WHERE length({c}::text) > " + str(int(new.length))
        if ob in TEXTS and (ob == "text" or not old.length or old.length > new.length):
            return _c(DESTRUCTIVE, "narrowing truncates longer values", longer, "would be truncated")
        if ob in TEXTS:
            return _c(SAFE, "widening: every value fits")
        return _c(CHECK, f"values longer than {new.length} characters would be truncated", longer, "would be truncated")
    if ob in INT_BITS and nb in INT_BITS:
        if INT_BITS[nb] >= INT_BITS[ob]:
            return _c(SAFE, "widening: every value fits")
        limit = 2 ** (INT_BITS[nb] - 1)
        sql = f"SELECT count(*) FROM {{t}} WHERE {{c}} NOT BETWEEN {-limit} AND {limit - 1}"
        return _c(CHECK, f"values outside the {nb} range make the change fail", sql, "are out of range", True)
    if (ob in FLOATS or ob == "numeric") and nb in INT_BITS:
        sql = "SELECT count(*) FROM {t} WHERE {c} <> round({c})"
        return _c(DESTRUCTIVE, "fractions are rounded away", sql, "would be rounded")
    if ob in FLOATS and nb in FLOATS:
        if FLOATS[nb] >= FLOATS[ob]:
            return _c(SAFE, "widening: every value fits")
        sql = "SELECT count(*) FROM {t} WHERE {c}::real::double precision <> {c}"
        return _c(DESTRUCTIVE, "precision is lost", sql, "would lose precision")
    if ob == "numeric" and nb == "numeric":
        if (new.scale or 0) < (old.scale or 0):
            sql = f"SELECT count(*) FROM {{t}} WHERE {{c}} <> round({{c}}, {int(new.scale or 0)})"
            return _c(DESTRUCTIVE, f"decimals beyond {new.scale or 0} are rounded away", sql, "would be rounded")
        if (new.precision or 1000) - (new.scale or 0) >= (old.precision or 1000) - (old.scale or 0):
            return _c(SAFE, "widening: every value fits")
        digits = int((new.precision or 0) - (new.scale or 0))
        sql = f"SELECT count(*) FROM {{t}} WHERE abs({{c}}) >= 10::numeric ^ {digits}"
        return _c(CHECK, "values too large for the new precision make the change fail", sql, "are too large", True)
    if ob in INT_BITS and nb == "numeric" and (new.precision or 1000) - (new.scale or 0) >= INT_DIGITS[ob]:
        return _c(SAFE, "widening: every value fits")
    if ob in INT_BITS and nb == "double precision" and ob != "bigint":
        return _c(SAFE, "widening: every value fits")
    if ob in ("timestamp", "timestamptz") and nb == "date":
        sql = "SELECT count(*) FROM {t} WHERE {c}::date::" + ob + " <> {c}"
        return _c(DESTRUCTIVE, "the time of day is dropped", sql, "would lose their time of day")
    if {ob, nb} == {"timestamp", "timestamptz"}:
        reason = "values are reinterpreted in the database session's time zone"
        return _c(DESTRUCTIVE, reason, "SELECT count(*) FROM {t} WHERE {c} IS NOT NULL", "would be reinterpreted")
    if ob == "date" and nb in ("timestamp", "timestamptz"):
        return _c(SAFE, "widening: dates become midnight")
    if not (old.castable and new.castable):
        return _c(DESTRUCTIVE, f"unknown conversion {old} → {new}")
    effects = (("cannot be converted (the change would fail)", True), ("would change value", False))
    return Conversion(CHECK, "each value must convert exactly", ROUNDTRIP, effects)
