"""Snapshot diffs, the drift normalisation, validation, and cutting ghost collections out of YAML text."""

import copy

import pytest
import yaml

from trm_directus.errors import SnapshotError
from trm_directus.schema import capture, normalize, snapshot
from trm_directus.schema import diff as diffs


def field(collection, name, type_="string", **schema):
    return {
        "collection": collection,
        "field": name,
        "type": type_,
        "meta": {"collection": collection, "field": name, "sort": 1},
        "schema": {"name": name, "table": collection, "data_type": "character varying", "default_value": None, **schema},
    }


def snap(collections=("a",), fields=(), relations=()):
    return {
        "version": 1,
        "directus": "11.17.4",
        "vendor": "postgres",
        "collections": [{"collection": c, "meta": {"note": None}, "schema": {"name": c}} for c in collections],
        "fields": list(fields),
        "systemFields": [],
        "relations": list(relations),
    }


def test_identical_snapshots_have_no_changes_regardless_of_order():
    a = snap(("a", "b"), [field("a", "x"), field("b", "y")])
    b = snap(("b", "a"), [field("b", "y"), field("a", "x")])
    assert diffs.compute(a, b).empty


def test_create_update_delete_are_told_apart():
    current = snap(("a", "old"), [field("a", "x"), field("a", "gone")])
    target = snap(("a", "new"), [field("a", "x", max_length=40), field("a", "added")])
    d = diffs.compute(current, target)
    assert {(c.action, c.name) for c in d.changes} == {
        ("create", "new"),
        ("delete", "old"),
        ("create", "a.added"),
        ("delete", "a.gone"),
        ("update", "a.x"),
    }
    update = next(c for c in d.changes if c.action == "update")
    assert update.details == ("schema.max_length: (absent) -> 40",)
    text = d.render_text()
    assert "DELETE  old" in text and "2 to create, 1 to update, 2 to delete" in text
    assert "| **delete** | collection | `old` |" in d.render_markdown("t")


def test_type_change_is_an_update_with_both_types():
    d = diffs.compute(snap(fields=[field("a", "x")]), snap(fields=[field("a", "x", "text")]))
    assert [c.details for c in d.changes] == [('type: "string" -> "text"',)]


def test_normalisation_hides_only_the_documented_differences_and_names_them():
    a = field("a", "id", "integer", default_value="nextval('a_id_seq'::regclass)", data_type="jsonb")
    b = copy.deepcopy(a)
    b["meta"]["sort"] = 7
    b["schema"]["default_value"] = "nextval('a_id_seq')"
    b["schema"]["data_type"] = "json"
    raw = diffs.compute(snap(fields=[a]), snap(fields=[b]))
    assert len(raw.changes) == 1
    norm = diffs.compute(snap(fields=[a]), snap(fields=[b]), normalise=normalize.normalise)
    assert norm.empty
    assert any("meta.sort: 1 -> 7" in n for n in norm.normalised)
    assert any("data_type" in n for n in norm.normalised)
    b["meta"]["note"] = "a real change"
    still = diffs.compute(snap(fields=[a]), snap(fields=[b]), normalise=normalize.normalise)
    assert [c.details for c in still.changes] == [('meta.note: (absent) -> "a real change"',)]


def test_now_defaults_are_equivalent():
    a = field("a", "t", "timestamp", default_value="CURRENT_TIMESTAMP")
    b = field("a", "t", "timestamp", default_value="now()")
    assert diffs.compute(snap(fields=[a]), snap(fields=[b]), normalise=normalize.normalise).empty


def test_validation_names_the_file_and_item(tmp_path):
    bad = tmp_path / "schema.yaml"
    bad.write_text(
        "version: 1\ndirectus: 11.17.4\nvendor: postgres\ncollections: []\n"
        "fields:\n  - collection: a\n    field: x\nrelations: []\n"
    )
    with pytest.raises(SnapshotError) as info:
        snapshot.read(bad)
    assert str(bad) in info.value.what and "fields[0] lacks type" in info.value.render()
    bad.write_text("version: 1\n  broken: [\n")
    with pytest.raises(SnapshotError, match=r"schema\.yaml:2: not valid YAML"):
        snapshot.read(bad)


def test_absent_and_blank_snapshots_read_as_none(tmp_path):
    assert snapshot.read(tmp_path / "nope.yaml") is None
    (tmp_path / "blank.yaml").write_text("\n  \n# only a comment\n")
    assert snapshot.read(tmp_path / "blank.yaml") is None


def test_owned_tables_come_from_pre_schema_db_init(repo):
    assert snapshot.owned_tables(repo / "db-init") == {"positions", "recompute_requests"}


def test_ghost_collections_are_cut_out_of_the_text_and_the_rest_is_untouched():
    data = snap(("positions", "real"), [field("real", "x"), field("positions", "device_id")])
    data["systemFields"] = [{"collection": "directus_activity", "field": "timestamp", "schema": {"is_indexed": True}}]
    data["relations"] = [{"collection": "real", "field": "x", "related_collection": "positions", "meta": None, "schema": None}]
    text = snapshot.dump(data)
    result = capture.clean(text, {"positions"})
    assert result.ghosts == ["positions"]
    parsed = yaml.safe_load(result.text)
    assert [c["collection"] for c in parsed["collections"]] == ["real"]
    assert [f["field"] for f in parsed["fields"]] == ["x"]
    assert parsed["relations"] == [] and "relations: []" in result.text
    kept = [ln for ln in text.splitlines() if "real" in ln]
    assert all(ln in result.text.splitlines() for ln in kept)


def test_capture_without_system_fields_is_refused():
    with pytest.raises(SnapshotError, match="systemFields"):
        capture.clean(snapshot.dump(snap()), set())


def test_snapshot_copied_out_of_a_container_archive_is_read():
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        payload = b"version: 1\n"
        info = tarfile.TarInfo("trm-snapshot.yaml")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    assert capture.read_tar_member(buf.getvalue(), "trm-snapshot.yaml") == "version: 1\n"
