"""List layouts and dashboards as code on a stack booted from the committed artifacts (its own: a copy of the
template database; the tests change presets and dashboards and restart Directus)."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import REPO, execute, query, run_cli
from trm_directus.artifacts import artifact_file as document
from trm_directus.artifacts import registry, sync
from trm_directus.errors import ArtifactError

pytestmark = [pytest.mark.integration, pytest.mark.directus]

UI = REPO / "snapshots" / "ui.yaml"
COMMITTED = document.read(UI, "ui", registry.kinds("ui"))
COUNTS = {k.section: len(COMMITTED.section(k)) for k in COMMITTED.kinds}


def global_presets(api) -> dict[str, dict]:
    rows = api.get("/presets", filter={"user": {"_null": True}, "role": {"_null": True}, "bookmark": {"_null": True}}, limit=-1)
    return {p["collection"]: p for p in rows}


def artifact_rows(dsn: str) -> list[tuple]:
    return query(
        dsn,
        "SELECT 'preset', id::text, collection FROM directus_presets UNION ALL "
        "SELECT 'dashboard', id::text, name FROM directus_dashboards UNION ALL "
        "SELECT 'panel', id::text, name FROM directus_panels ORDER BY 1, 3",
    )


def test_boot_applies_the_file_directus_serves_it_and_a_capture_writes_the_same_bytes(stack, api):
    log = stack.build_output()  # the boot that built this database from empty (the template's, for a copy)
    assert f"ui artifacts: applied ui.yaml (presets {COUNTS['presets']} to create, 0 unchanged; dashboards 1 to create" in log
    assert "  create dashboard Event overview" in log and "  create panel Event overview · Entries per class" in log
    # Directus serves it right after boot (written before it started: no cache to go stale).
    entries = global_presets(api)["entries"]
    assert entries["layout_query"]["tabular"]["fields"][:2] == ["race_number", "class_id"]
    assert entries["layout_query"]["tabular"]["sort"] == ["race_number"]
    [dashboard] = api.get("/dashboards", fields="name,panels.name,panels.type")
    assert dashboard["name"] == "Event overview"
    assert {p["name"]: p["type"] for p in dashboard["panels"]}["Entries per class"] == "bar-chart"
    # Round trip: the database built from the file captures back to the same bytes.
    out = stack.state_dir / "captured.yaml"
    result = run_cli("ui-snapshot", "--out", str(out), "--dsn", stack.info.dsn)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == UI.read_text()
    with psycopg.connect(stack.info.dsn) as conn:
        assert sync.differences(conn, UI, "ui") == []


def test_second_boot_changes_nothing_and_restores_a_missing_project_owner(stack):
    rows = artifact_rows(stack.info.dsn)
    execute(stack.info.dsn, "UPDATE directus_settings SET project_owner = NULL")
    stack.stop_directus()
    stack.boot()
    log = stack.boot_output()
    unchanged = "; ".join(f"{section} {n} unchanged" for section, n in COUNTS.items())
    assert f"ui artifacts: nothing to apply from ui.yaml ({unchanged})" in log
    assert artifact_rows(stack.info.dsn) == rows  # same ids: nothing deleted and re-created
    assert f"project owner set to {stack.info.admin_email} (the database had none)" in log
    assert query(stack.info.dsn, "SELECT project_owner FROM directus_settings")[0][0] == stack.info.admin_email


def test_operator_changes_are_reported_reset_and_their_own_dashboards_kept_unless_pruned(stack, api):
    entries = global_presets(api)["entries"]
    api.patch(
        f"/presets/{entries['id']}", {"layout_query": {"tabular": {"fields": ["status"], "sort": ["-status"], "limit": 25}}}
    )
    own = api.post("/dashboards", {"name": "Scrutineering", "icon": "build"})
    api.post(
        "/panels",
        {"dashboard": own["id"], "name": "Open", "type": "metric", "position_x": 1, "position_y": 1, "width": 10, "height": 6},
    )
    # The drift gate's check names both.
    with psycopg.connect(stack.info.dsn) as conn:
        found = sync.differences(conn, UI, "ui")
    assert "ui.yaml: differs: preset entries (default layout): layout_query" in found
    assert "ui.yaml: only in database: dashboard Scrutineering" in found
    # `ui-apply --dry-run` names both and writes nothing.
    preview = run_cli("ui-apply", "--dry-run", "--dsn", stack.info.dsn)
    assert preview.returncode == 0, preview.stderr
    assert "  update preset entries (default layout): layout_query" in preview.stdout
    assert "  keep dashboard Scrutineering (not in the file)" in preview.stdout
    assert "  keep panel Scrutineering · Open (not in the file)" in preview.stdout
    assert global_presets(api)["entries"]["layout_query"]["tabular"]["fields"] == ["status"]
    # Apply (as boot does): the committed layout is back, the operator's dashboard stays.
    applied = run_cli("ui-apply", "--dsn", stack.info.dsn)
    assert applied.returncode == 0, applied.stderr
    assert global_presets(api)["entries"]["layout_query"] == entries["layout_query"]
    assert [d["name"] for d in api.get("/dashboards", sort="name", fields="name")] == ["Event overview", "Scrutineering"]
    # --prune removes what the file does not name (panels go with their dashboard).
    pruned = run_cli("ui-apply", "--prune", "--dsn", stack.info.dsn)
    assert pruned.returncode == 0, pruned.stderr
    assert "  delete dashboard Scrutineering" in pruned.stdout
    assert [d["name"] for d in api.get("/dashboards", fields="name")] == ["Event overview"]
    assert not api.get("/panels", filter={"name": {"_eq": "Open"}})
    with psycopg.connect(stack.info.dsn) as conn:
        assert sync.differences(conn, UI, "ui") == []


def test_a_preset_for_an_unknown_collection_is_refused_and_nothing_is_written(stack, tmp_path):
    before = artifact_rows(stack.info.dsn)
    bad = tmp_path / "ui.yaml"
    text = UI.read_text().replace("- collection: vehicles\n", "- collection: vehicle\n", 1)
    bad.write_text(
        text.replace("name: Event overview\n", "name: Event overview 2\n", 1).replace(
            "dashboard: Event overview\n", "dashboard: Event overview 2\n"
        )
    )
    doc = document.read(bad, "ui", registry.kinds("ui"))
    with psycopg.connect(stack.info.dsn, autocommit=True) as conn, pytest.raises(ArtifactError) as info:
        sync.apply(conn, doc)
    assert "1 item(s) do not fit this database" in info.value.what
    assert "preset vehicle (default layout): collection 'vehicle' does not exist" in info.value.details
    assert artifact_rows(stack.info.dsn) == before
