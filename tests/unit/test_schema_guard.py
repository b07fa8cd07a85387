"""The schema guard's classification: every change is safe, destructive or needs a data check (table-driven)."""

from __future__ import annotations

import copy

import pytest

from trm_directus.errors import SchemaApplyRefused
from trm_directus.schema import allowance, guard, impact
from trm_directus.schema import diff as diffs

VARCHAR = {"data_type": "character varying"}


def col(type_: str, **schema) -> dict:
    """A field as Directus snapshots it: Directus type plus the column as the database has it."""
    return {"type": type_, "meta": {"note": None}, "schema": {"default_value": None, "is_nullable": True, **schema}}


def snap(fields: dict[str, dict] | None = None, *, collections=("things",), relations=(), system=None) -> dict:
    out = {"version": 1, "directus": "11.17.4", "vendor": "postgres", "relations": list(relations)}
    out["collections"] = [{"collection": c, "meta": {"note": None}, "schema": {"name": c}} for c in collections]
    out["fields"] = []
    for name, f in (fields or {}).items():
        table, column = name.split(".")
        item = copy.deepcopy(f)
        item.update(collection=table, field=column)
        if item["schema"] is not None:
            item["schema"].update(name=column, table=table)
        out["fields"].append(item)
    out["systemFields"] = system if system is not None else [SYSTEM]
    return out


SYSTEM = {"collection": "directus_activity", "field": "timestamp", "schema": {"is_indexed": True}}


def classify(current: dict, target: dict) -> list[guard.Finding]:
    return guard.classify(current, target, diffs.compute(current, target))


def one(current_field: dict, target_field: dict) -> guard.Finding:
    found = classify(snap({"things.x": current_field}), snap({"things.x": target_field}))
    assert len(found) == 1, found
    return found[0]


FIELD_UPDATES = [
    # (current, target, verdict, change, reason fragment, first effect)
    (
        col("string", **VARCHAR, max_length=200),
        col("string", **VARCHAR, max_length=5),
        "destructive",
        "varchar(200) → varchar(5)",
        "truncates",
        "would be truncated",
    ),
    (
        col("string", **VARCHAR, max_length=5),
        col("string", **VARCHAR, max_length=200),
        "safe",
        "varchar(5) → varchar(200)",
        "widening",
        None,
    ),
    (
        col("string", **VARCHAR, max_length=1000),
        col("string", **VARCHAR, max_length=None),
        "destructive",
        "varchar(1000) → varchar(255)",
        "truncates",
        "would be truncated",
    ),
    (
        col("text", data_type="text"),
        col("string", **VARCHAR, max_length=40),
        "destructive",
        "text → varchar(40)",
        "truncates",
        "would be truncated",
    ),
    (col("string", **VARCHAR, max_length=40), col("text", data_type="text"), "safe", "varchar(40) → text", "text form", None),
    (
        col("float", data_type="real"),
        col("integer", data_type="integer"),
        "destructive",
        "real → integer",
        "rounded",
        "would be rounded",
    ),
    (
        col("decimal", data_type="numeric", numeric_precision=10, numeric_scale=5),
        col("integer", data_type="integer"),
        "destructive",
        "numeric(10,5) → integer",
        "rounded",
        "would be rounded",
    ),
    (col("integer", data_type="integer"), col("bigInteger", data_type="bigint"), "safe", "integer → bigint", "widening", None),
    (
        col("bigInteger", data_type="bigint"),
        col("integer", data_type="integer"),
        "needs-data-check",
        "bigint → integer",
        "range",
        "are out of range",
    ),
    (
        col("timestamp", data_type="timestamp with time zone"),
        col("date", data_type="date"),
        "destructive",
        "timestamptz → date",
        "time of day",
        "would lose their time of day",
    ),
    (
        col("dateTime", data_type="timestamp without time zone"),
        col("timestamp", data_type="timestamp with time zone"),
        "destructive",
        "timestamp → timestamptz",
        "time zone",
        "would be reinterpreted",
    ),
    (
        col("date", data_type="date"),
        col("dateTime", data_type="timestamp without time zone"),
        "safe",
        "date → timestamp",
        "midnight",
        None,
    ),
    (
        col("float", data_type="double precision"),
        col("float", data_type="real"),
        "destructive",
        "double precision → real",
        "precision",
        "would lose precision",
    ),
    (
        col("decimal", data_type="numeric", numeric_precision=10, numeric_scale=5),
        col("decimal", data_type="numeric", numeric_precision=10, numeric_scale=2),
        "destructive",
        "numeric(10,5) → numeric(10,2)",
        "decimals beyond 2",
        "would be rounded",
    ),
    (
        col("decimal", data_type="numeric", numeric_precision=10, numeric_scale=2),
        col("decimal", data_type="numeric", numeric_precision=5, numeric_scale=2),
        "needs-data-check",
        "numeric(10,2) → numeric(5,2)",
        "too large",
        "are too large",
    ),
    (
        col("string", **VARCHAR, max_length=20),
        col("integer", data_type="integer"),
        "needs-data-check",
        "varchar(20) → integer",
        "convert exactly",
        "cannot be converted (the change would fail)",
    ),
    (
        col("integer", data_type="integer"),
        col("string", **VARCHAR, max_length=3),
        "needs-data-check",
        "integer → varchar(3)",
        "longer than 3",
        "would be truncated",
    ),
    (
        col("json", data_type="jsonb"),
        col("json", data_type="json"),
        "needs-data-check",
        "jsonb → json",
        "convert exactly",
        "cannot be converted (the change would fail)",
    ),
    (
        col("string", **VARCHAR, max_length=9),
        col("alias", data_type=None) | {"schema": None},
        "destructive",
        "type string → alias",
        "deletes and re-creates",
        "hold a value that would be deleted",
    ),
    (
        col("integer", data_type="integer"),
        col("integer", data_type="integer", is_nullable=False),
        "needs-data-check",
        "nullable → NOT NULL",
        "NULL",
        "are NULL",
    ),
    (
        col("integer", data_type="integer", is_unique=True),
        col("integer", data_type="integer", is_unique=False),
        "destructive",
        "unique → not unique",
        "drops the unique index",
        "lose the uniqueness guarantee",
    ),
    (
        col("integer", data_type="integer", is_unique=False),
        col("integer", data_type="integer", is_unique=True),
        "needs-data-check",
        "not unique → unique",
        "duplicates",
        "are duplicates",
    ),
    (
        col("integer", data_type="integer", is_indexed=True),
        col("integer", data_type="integer", is_indexed=False),
        "destructive",
        "indexed → not indexed",
        "drops the index",
        None,
    ),
    (
        col("integer", data_type="integer", is_indexed=False),
        col("integer", data_type="integer", is_indexed=True),
        "safe",
        "adds an index",
        "no data changes",
        None,
    ),
    (
        col("integer", data_type="integer", default_value=0),
        col("integer", data_type="integer", default_value=5),
        "safe",
        "default_value",
        "no data changes",
        None,
    ),
    (
        col("integer", data_type="integer"),
        col("integer", data_type="integer", collation="C"),
        "destructive",
        "collation None → 'C'",
        "does not know",
        None,
    ),
    (
        col("integer", data_type="integer"),
        col("integer", data_type="integer") | {"meta": {"note": "new"}},
        "safe",
        "update",
        "metadata only",
        None,
    ),
]


@pytest.mark.parametrize(("current", "target", "verdict", "change", "reason", "effect"), FIELD_UPDATES)
def test_field_updates_are_classified(current, target, verdict, change, reason, effect):
    f = one(current, target)
    assert (f.kind, f.name, f.verdict, f.change) == ("field", "things.x", verdict, change)
    assert reason in f.reason
    assert (f.probe.effects[0][0] if f.probe else None) == effect


def test_a_snapshot_without_system_fields_drops_system_indexes_and_is_destructive():
    found = classify(snap(), snap(system=[]))
    assert [(f.kind, f.name, f.verdict) for f in found] == [("system field", "directus_activity.timestamp", "destructive")]
    assert "a snapshot without systemFields drops Directus's system indexes" in found[0].reason
    added = classify(snap(system=[]), snap())
    assert [(f.verdict, f.reason) for f in added] == [("safe", "adds an index")]


def test_collections_and_their_fields():
    base = snap({"things.x": col("integer", data_type="integer")})
    assert [(f.kind, f.verdict, f.reason) for f in classify(base, snap(collections=()))] == [
        ("collection", "destructive", "drops the table with its 1 field")  # its fields are not listed again
    ]
    folder = snap(collections=("things", "folder"))
    folder["collections"][1]["schema"] = None
    assert classify(folder, snap())[0].reason == "removes the folder (it has no table)"
    more = snap({"things.x": col("integer", data_type="integer"), "things.y": col("integer", data_type="integer")})
    created = classify(base, more)
    assert [(f.name, f.verdict) for f in created] == [("things.y", "safe")]
    required = copy.deepcopy(more)
    required["fields"][1]["schema"]["is_nullable"] = False
    f = classify(base, required)[0]
    assert (f.verdict, f.probe.effects) == ("needs-data-check", (("exist and would violate NOT NULL", True),))
    fresh = snap({"new.y": required["fields"][1] | {"collection": "new"}}, collections=("things", "new"))
    assert {(f.name, f.verdict) for f in classify(snap(), fresh)} == {("new", "safe"), ("new.y", "safe")}
    dropped = classify(more, base)[0]
    assert (dropped.verdict, dropped.reason, dropped.probe.column) == ("destructive", "drops the column", "y")


def relation(on_delete="RESTRICT", **meta) -> dict:
    return {
        "collection": "things",
        "field": "owner",
        "related_collection": "owners",
        "meta": {"one_field": None, **meta},
        "schema": {
            "table": "things",
            "column": "owner",
            "foreign_key_table": "owners",
            "foreign_key_column": "id",
            "constraint_name": "things_owner_foreign",
            "on_update": "NO ACTION",
            "on_delete": on_delete,
        },
    }


def test_relations():
    tables = ("things", "owners")
    plain = snap(collections=tables)
    linked = snap(collections=tables, relations=[relation()])
    created = classify(plain, linked)[0]
    assert (created.verdict, created.change, created.probe.effects) == (
        "needs-data-check",
        "create foreign key → owners",
        (("reference no owners row", True),),
    )
    assert dict(created.probe.params) == {"ft": "owners", "fc": "id"}
    cascade = classify(linked, snap(collections=tables, relations=[relation("CASCADE")]))[0]
    assert (cascade.verdict, cascade.change) == ("destructive", "on_delete RESTRICT → CASCADE")
    assert cascade.reason == "drops and re-creates the foreign key"
    assert classify(linked, snap(collections=tables, relations=[relation(one_field="things")]))[0].verdict == "safe"
    assert classify(linked, plain)[0].reason == "drops the foreign key"
    new_table = classify(snap(), linked)
    assert {(f.name, f.verdict) for f in new_table} == {("owners", "safe"), ("things.owner", "safe")}


@pytest.mark.parametrize(
    ("verdict", "counts", "blocks", "status"),
    [
        ("safe", None, False, "safe"),
        ("destructive", [0], False, "destructive"),
        ("destructive", None, False, "destructive"),
        ("needs-data-check", [0], True, "checked"),
        ("needs-data-check", [3], True, "blocked"),
        ("needs-data-check", [3], False, "destructive"),
        ("needs-data-check", None, True, "destructive"),  # could not check: refused unless allowed
    ],
)
def test_status_combines_the_class_with_the_counted_rows(verdict, counts, blocks, status):
    finding = guard.Finding(
        "field", "t.c", "x → y", verdict, "because", guard.probe("SELECT 1", "are hit", "t", "c", blocks=blocks)
    )
    assert impact.Assessed(finding, counts).status == status


def test_refusal_lists_rows_and_the_token_and_blocked_changes_cannot_be_allowed(tmp_path):
    narrow = guard.Finding(
        "field",
        "organizations.name",
        "varchar(200) → varchar(5)",
        "destructive",
        "narrowing truncates longer values",
        guard.probe("x", "would be truncated", "organizations", "name"),
    )
    nulls = guard.Finding(
        "field",
        "vehicles.plate",
        "nullable → NOT NULL",
        "needs-data-check",
        "NULL values make the change fail",
        guard.probe("x", "are NULL", "vehicles", "plate", blocks=True),
    )
    report = impact.GuardReport([impact.Assessed(narrow, [3])])
    permit = allowance.Allowance(False, "3f9a1c0b7e42" + "0" * 52, "SCHEMA_APPLY_ALLOW_DESTRUCTIVE")
    with pytest.raises(SchemaApplyRefused) as info:
        report.refuse_if_needed(tmp_path / "schema.yaml", allowed=False, how_to_allow=permit.how_to_allow())
    text = info.value.render()
    assert (
        "field organizations.name: varchar(200) → varchar(5): narrowing truncates longer values: 3 rows would be truncated"
        in text
    )
    assert "set SCHEMA_APPLY_ALLOW_DESTRUCTIVE=3f9a1c0b7e42 for one run" in text
    report.refuse_if_needed(tmp_path / "schema.yaml", allowed=True, how_to_allow="")  # allowed: no refusal
    blocked = impact.GuardReport([impact.Assessed(narrow, [3]), impact.Assessed(nulls, [4])])
    with pytest.raises(SchemaApplyRefused, match="1 change\\(s\\) would fail on the data") as info:
        blocked.refuse_if_needed(tmp_path / "schema.yaml", allowed=True, how_to_allow="")
    assert "vehicles.plate: nullable → NOT NULL: NULL values make the change fail: 4 rows are NULL" in info.value.render()
    assert blocked.summary() == "0 safe, 0 checked, 1 destructive, 1 blocked"


def test_every_change_to_a_column_names_it_and_metadata_does_not():
    """Directus re-states the column on any schema change of a field, a safe one too (a default): all name the column."""
    base = col("string", **VARCHAR, max_length=40)
    altered = [
        one(base, col("string", **VARCHAR, max_length=40, default_value="WPM")),  # safe
        one(base, col("string", **VARCHAR, max_length=200)),  # safe widening
        one(base, col("string", **VARCHAR, max_length=5)),  # destructive
    ]
    assert [(f.verdict, f.alters) for f in altered] == [("safe", ("things", "x"))] * 2 + [("destructive", ("things", "x"))]
    renamed = copy.deepcopy(base)
    renamed["meta"]["note"] = "a note"
    assert one(base, renamed).alters is None  # metadata only: Directus does not touch the column
    two = snap({"things.x": base, "things.y": base})
    assert [(f.name, f.alters) for f in classify(two, snap({"things.x": base}))] == [("things.y", ("things", "y"))]
    assert [(f.name, f.alters) for f in classify(snap({"things.x": base}), two)] == [("things.y", None)]  # created


def test_a_change_to_a_pinned_column_is_blocked_naming_the_object_and_cannot_be_allowed(tmp_path):
    default = guard.Finding("field", "waypoints.type", "default_value", "safe", "no data changes", alters=("waypoints", "type"))
    pinned = impact.Assessed(default, pinned_by=["trigger waypoints_speed_zones on waypoints"])
    assert pinned.status == "blocked" and impact.Assessed(default).status == "safe"
    assert pinned.describe() == (
        "field waypoints.type: default_value: no data changes: the column is pinned by trigger waypoints_speed_zones "
        "on waypoints (PostgreSQL refuses to alter or drop a column that a trigger, view, rule or policy names)"
    )
    report = impact.GuardReport([pinned])
    assert report.render().splitlines()[1].startswith("  BLOCKED     field waypoints.type: default_value")
    with pytest.raises(SchemaApplyRefused, match="1 change\\(s\\) would fail on a column a database object pins") as info:
        report.refuse_if_needed(tmp_path / "schema.yaml", allowed=True, how_to_allow="")
    text = info.value.render()
    assert "trigger waypoints_speed_zones on waypoints" in text and "NEW.x IS DISTINCT FROM OLD.x" in text
    nulls = guard.Finding(
        "field", "t.c", "nullable → NOT NULL", "needs-data-check", "NULLs", guard.probe("x", "are NULL", "t", "c", blocks=True)
    )
    both = impact.GuardReport([pinned, impact.Assessed(nulls, [2])])
    with pytest.raises(SchemaApplyRefused, match=r"2 change\(s\) would fail \(1 on the data in the database, 1 on a column"):
        both.refuse_if_needed(tmp_path / "schema.yaml", allowed=True, how_to_allow="")


def test_allowance_is_bound_to_the_snapshot_hash(capsys):
    digest = allowance.digest(b"version: 1\n")
    token = digest[:12]
    grant = lambda value: allowance.resolve(value, digest, setting="SCHEMA_APPLY_ALLOW_DESTRUCTIVE", conn=None).granted  # noqa: E731
    assert grant(token) and grant(digest) and grant(token.upper())
    assert not grant(None) and not grant("") and not grant("false")
    assert capsys.readouterr().err == ""
    assert not grant("true")
    assert "is not accepted any more" in capsys.readouterr().err
    other = allowance.digest(b"version: 1\n# stale\n")[:12]
    assert not grant(other)
    assert f"was given for another snapshot (this one is {token})" in capsys.readouterr().err
    assert not grant(token[:8]) and not grant("zzzzzzzzzzzz")
    assert "not a snapshot token" in capsys.readouterr().err
    flag = allowance.Allowance(False, digest, "--allow-destructive")
    assert flag.how_to_allow().startswith(f"pass --allow-destructive {token} for one run")
