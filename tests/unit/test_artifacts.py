"""System artifacts as code without a database: file validation, canonical form, diffs by natural key."""

import shutil

import pytest
import yaml

from trm_directus import pins
from trm_directus.artifacts import artifact_file as document
from trm_directus.artifacts import registry
from trm_directus.artifacts.dashboards import KIND as DASHBOARDS
from trm_directus.artifacts.panels import KIND as PANELS
from trm_directus.artifacts.presets import KIND as PRESETS
from trm_directus.errors import ArtifactError
from trm_directus.schema import pin_check

UI = registry.kinds("ui")


def committed(repo):
    return document.read(repo / "snapshots" / "ui.yaml", "ui", UI)


def test_committed_ui_file_is_valid_and_in_canonical_form(repo):
    path = repo / "snapshots" / "ui.yaml"
    doc = committed(repo)
    assert doc.directus == pins.directus_version(repo)
    assert document.render(doc) == path.read_text()


def test_every_collection_has_a_default_layout_and_geometry_collections_a_map(repo):
    schema = yaml.safe_load((repo / "snapshots" / "schema.yaml").read_text())
    tables = {c["collection"] for c in schema["collections"] if c.get("schema")}
    types = {(f["collection"], f["field"]): f["type"] for f in schema["fields"]}
    layouts = {p["collection"]: p for p in committed(repo).section(PRESETS) if p["bookmark"] is None}
    assert tables - set(layouts) == set()
    for name, preset in layouts.items():
        query = preset["layout_query"][preset["layout"]]
        assert query["sort"] and query["limit"] in (25, 50, 100, 1000), name
        if preset["layout"] == "map":
            geometry = preset["layout_options"]["map"]["geometryField"]
            assert types[(name, geometry)].startswith("geometry"), name
        else:
            assert preset["layout"] == "tabular" and query["fields"], name
            assert all((name, f.split(".")[0]) in types for f in query["fields"]), name
    maps = {name for name, p in layouts.items() if p["layout"] == "map"}
    assert maps == {"geofences", "waypoints", "speed_limit_zones"}
    assert layouts["entries"]["layout_query"]["tabular"]["fields"][:5] == [
        "race_number",
        "class_id",
        "crew.user_id.last_name",
        "vehicle_id",
        "status",
    ]
    assert layouts["classes"]["layout_query"]["tabular"]["fields"][:3] == ["code", "name", "sort_order"]


def test_event_overview_dashboard_panels_name_their_dashboard(repo):
    doc = committed(repo)
    assert [d["name"] for d in doc.section(DASHBOARDS)] == ["Event overview"]
    panels = {p["name"]: p for p in doc.section(PANELS)}
    assert panels["Entries per class"]["type"] == "bar-chart"
    assert panels["Entries by status"]["options"]["column"] == "status"
    assert {"Entries", "Devices assigned"} <= set(panels)
    assert all(p["dashboard"] == "Event overview" for p in panels.values())


def test_a_bad_file_is_refused_with_file_line_and_reason(tmp_path, repo):
    text = (repo / "snapshots" / "ui.yaml").read_text()
    text = text.replace("  name: Entries per class\n", "  name: Entries per class\n  colour: red\n", 1)
    text = text.replace("- dashboard: Event overview\n  name: Entries\n", "- dashboard: Nope\n  name: Entries\n", 1)
    text = text.replace("- collection: vehicles\n", "- collection: null\n", 1)
    text += "widgets: []\n"
    bad = tmp_path / "ui.yaml"
    bad.write_text(text)
    with pytest.raises(ArtifactError) as info:
        document.read(bad, "ui", UI)
    details = info.value.details
    lines = text.splitlines()
    for needle, reason in [
        ("  colour: red", "colour: unknown field"),
        ("- dashboard: Nope", "dashboard: no dashboard named 'Nope'"),
        ("- collection: null", "collection: missing: it is part of the key"),
        ("widgets: []", "widgets: unknown section"),
    ]:
        line = lines.index(needle) + 1
        assert any(d.startswith(f"{bad}:{line}: ") and reason in d for d in details.splitlines()), (needle, details)
    assert "nothing was applied" in info.value.what


def test_duplicate_keys_in_a_file_are_refused(tmp_path):
    bad = tmp_path / "ui.yaml"
    bad.write_text("directus: 11.17.4\ndashboards:\n- name: A\n- name: A\n")
    with pytest.raises(ArtifactError) as info:
        document.read(bad, "ui", UI)
    assert "duplicate dashboard A" in info.value.details


def test_absent_or_blank_file_reads_as_none(tmp_path):
    assert document.read(tmp_path / "absent.yaml", "ui", UI) is None
    (tmp_path / "blank.yaml").write_text("\n")
    assert document.read(tmp_path / "blank.yaml", "ui", UI) is None


def test_diff_by_natural_key_sorts_items_into_create_update_delete_unchanged():
    current = {
        ("entries", None): PRESETS.normalize({"collection": "entries", "layout_query": {"tabular": {"limit": 25}}}),
        ("classes", None): PRESETS.normalize({"collection": "classes"}),
        ("vehicles", "Toyotas"): PRESETS.normalize({"collection": "vehicles", "bookmark": "Toyotas"}),
    }
    ids = {("entries", None): 1, ("classes", None): 2, ("vehicles", "Toyotas"): 3}
    desired = [
        {"collection": "entries", "layout_query": {"tabular": {"limit": 100}}},
        {"collection": "classes", "layout": "tabular", "icon": "bookmark"},  # defaults spelled out: still equal
        {"collection": "devices"},
    ]
    d = PRESETS.diff(current, ids, desired)
    assert [i["collection"] for i in d.to_create] == ["devices"]
    assert [(c["collection"], n["layout_query"]) for c, n in d.to_update] == [("entries", {"tabular": {"limit": 100}})]
    assert [i["bookmark"] for i in d.to_delete] == ["Toyotas"]
    assert d.unchanged == [("classes", None)]
    assert d.lines(delete="keep {} (not in the file)") == [
        "  create preset devices (default layout)",
        "  update preset entries (default layout): layout_query",
        "  keep preset vehicles (bookmark 'Toyotas') (not in the file)",
    ]


def test_normalize_sorts_json_keys_but_keeps_list_order():
    item = PRESETS.normalize({"collection": "x", "layout_options": {"tabular": {"widths": {"b": 1, "a": 2}}}})
    assert list(item) == list(PRESETS.fields)
    assert list(item["layout_options"]["tabular"]["widths"]) == ["a", "b"]
    fields = ["race_number", "class_id", "status"]
    assert PRESETS.normalize({"layout_query": {"tabular": {"fields": fields}}})["layout_query"]["tabular"]["fields"] == fields


def test_registry_applies_dashboards_before_the_panels_that_name_them():
    order = [k.section for k in registry.kinds("ui")]
    for kind in registry.kinds("ui"):
        for section in kind.references.values():
            assert order.index(section) < order.index(kind.section)


def test_ui_file_on_another_directus_version_is_reported_by_pins(tmp_path, repo):
    shutil.copytree(repo / "image", tmp_path / "image")
    shutil.copytree(repo / "snapshots", tmp_path / "snapshots")
    ui = tmp_path / "snapshots" / "ui.yaml"
    ui.write_text(ui.read_text().replace("directus: 11.17.4", "directus: 11.9.0"))
    assert pin_check.check(tmp_path) == [f"{ui}: captured on Directus 11.9.0, the pin is 11.17.4"]
