"""Schema as code on a real Directus: capture, diff, guarded apply at boot and through REST, the drift gate."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_pre_schema_db_init, execute, query, run_cli
from trm_directus.directus.api import Directus
from trm_directus.errors import StackError
from trm_directus.gates import drift
from trm_directus.schema import allowance, capture, snapshot
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]

# The stack's Directus sees positions (not excluded) so that ghost collections can happen here.
GHOST_PRONE = {"DB_EXCLUDE_TABLES": "spatial_ref_sys,sysdiagrams"}


def create_probe_schema(api: Directus) -> None:
    """Two collections and a relation, created the way the admin UI does: through Directus's REST API."""
    uuid_pk = {
        "field": "id",
        "type": "uuid",
        "meta": {"hidden": True, "readonly": True, "special": ["uuid"]},
        "schema": {"is_primary_key": True, "length": 36, "has_auto_increment": False},
    }
    api.post(
        "/collections",
        {
            "collection": "probe_items",
            "meta": {"icon": "science", "note": "drift probe"},
            "schema": {},
            "fields": [
                uuid_pk,
                {"field": "name", "type": "string", "meta": {"required": True}, "schema": {"is_nullable": False}},
                {"field": "count", "type": "integer", "meta": {}, "schema": {"default_value": 0}},
                {"field": "spot", "type": "geometry.Point", "meta": {"interface": "map"}, "schema": {}},
                {
                    "field": "created_at",
                    "type": "timestamp",
                    "meta": {"special": ["date-created"]},
                    "schema": {"default_value": "CURRENT_TIMESTAMP"},
                },
            ],
        },
    )
    api.post(
        "/collections",
        {
            "collection": "probe_tags",
            "meta": {},
            "schema": {},
            "fields": [
                {
                    "field": "id",
                    "type": "integer",
                    "meta": {"hidden": True},
                    "schema": {"is_primary_key": True, "has_auto_increment": True},
                },
                {"field": "item", "type": "uuid", "meta": {"special": ["m2o"]}, "schema": {}},
            ],
        },
    )
    api.post(
        "/relations",
        {
            "collection": "probe_tags",
            "field": "item",
            "related_collection": "probe_items",
            "schema": {"on_delete": "RESTRICT"},
            "meta": {},
        },
    )


@dataclass
class Probe:
    stack: NativeStack
    api: Directus
    path: Path
    data: dict

    def cli(self, *args: str):
        return run_cli(*args, env={"TRM_STATE_DIR": str(self.stack.state_dir)})

    def variant(self, tmp_path: Path, edit) -> Path:
        data = copy.deepcopy(self.data)
        edit(data)
        out = tmp_path / "variant.yaml"
        snapshot.write(out, data)
        return out


@pytest.fixture(scope="module")
def pre_db_init(tmp_path_factory) -> Path:
    return copy_pre_schema_db_init(tmp_path_factory.mktemp("db-init") / "db-init")


@pytest.fixture(scope="module")
def probe(tmp_path_factory, pre_db_init):
    base = tmp_path_factory.mktemp("probe")
    stack = NativeStack(
        base / "stack", persistent=True, snapshot_path=base / "absent.yaml", env=GHOST_PRONE, db_init_dir=pre_db_init
    )
    try:
        stack.start()
        api = Directus(stack.url, stack.info.admin_token)
        create_probe_schema(api)
        result = capture.clean(capture.from_native(stack), {"positions"})
        path = base / "probe.yaml"
        path.write_text(result.text)
        yield Probe(stack, api, path, result.data)
    finally:
        stack.stop(purge=True)


def test_snapshot_command_writes_directus_yaml_with_system_fields(probe, tmp_path):
    out = tmp_path / "schema.yaml"
    result = probe.cli("snapshot", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "2 collections, 7 fields, 1 relations (Directus 11.17.4)" in result.stdout
    data = yaml.safe_load(out.read_text())
    assert data == probe.data and data["systemFields"]
    assert out.read_text() == probe.path.read_text()  # Directus's own text, byte for byte
    again = probe.cli("snapshot", "--out", str(out))
    assert "no changes since the previous snapshot" in again.stdout


def test_field_added_in_directus_but_not_in_the_snapshot_is_drift(probe, tmp_path):
    probe.api.post("/fields/probe_items", {"field": "extra", "type": "string", "meta": {}, "schema": {}})
    try:
        md = tmp_path / "diff.md"
        result = probe.cli("diff", "--snapshot", str(probe.path), "--exit-code", "--markdown", str(md))
        assert result.returncode == 2, result.stderr
        assert "DELETE  probe_items.extra" in result.stdout and "0 to create, 0 to update, 1 to delete" in result.stdout
        assert "| **delete** | field | `probe_items.extra` |" in md.read_text()
    finally:
        probe.api.delete("/fields/probe_items/extra")
    clean = probe.cli("diff", "--snapshot", str(probe.path), "--exit-code")
    assert clean.returncode == 0 and "no differences" in clean.stdout


def test_field_in_the_snapshot_but_missing_in_the_database_is_drift(probe, tmp_path):
    def add_field(data):
        extra = copy.deepcopy(next(f for f in data["fields"] if f["field"] == "name"))
        extra["field"] = extra["meta"]["field"] = extra["schema"]["name"] = "nickname"
        data["fields"].append(extra)

    result = probe.cli("diff", "--snapshot", str(probe.variant(tmp_path, add_field)), "--exit-code")
    assert result.returncode == 2
    assert "create  probe_items.nickname" in result.stdout


def test_changed_field_type_is_drift(probe, tmp_path):
    def retype(data):
        count = next(f for f in data["fields"] if f["field"] == "count")
        count["type"] = "bigInteger"
        count["schema"]["data_type"] = "bigint"

    result = probe.cli("diff", "--snapshot", str(probe.variant(tmp_path, retype)), "--exit-code")
    assert result.returncode == 2
    assert "update  probe_items.count" in result.stdout and 'type: "integer" -> "bigInteger"' in result.stdout


def test_rest_apply_refuses_deletions_unless_allowed(probe):
    probe.api.post("/fields/probe_items", {"field": "doomed", "type": "string", "meta": {}, "schema": {}})
    refused = probe.cli("apply", "--snapshot", str(probe.path))
    assert refused.returncode == 1
    assert "refusing to apply" in refused.stderr and "field probe_items.doomed: delete: drops the column" in refused.stderr
    assert probe.api.get("/fields/probe_items/doomed")["field"] == "doomed"
    token = allowance.digest(probe.path.read_bytes())[:12]
    assert f"pass --allow-destructive {token} for one run" in refused.stderr
    dry = probe.cli("apply", "--snapshot", str(probe.path), "--dry-run", "--allow-destructive", token)
    assert dry.returncode == 0 and "dry run: nothing was applied" in dry.stdout
    assert probe.api.get("/fields/probe_items/doomed")["field"] == "doomed"
    applied = probe.cli("apply", "--snapshot", str(probe.path), "--allow-destructive", token)
    assert applied.returncode == 0, applied.stderr
    assert "applied: 0 to create, 0 to update, 1 to delete" in applied.stdout
    assert probe.cli("diff", "--snapshot", str(probe.path), "--exit-code").returncode == 0


def test_ghost_table_is_not_drift_and_is_never_captured_or_dropped(probe, tmp_path):
    dsn = probe.stack.info.dsn
    execute(dsn, "INSERT INTO directus_collections (collection) VALUES ('positions')")
    probe.api.clear_cache()
    try:
        assert "positions" in [c["collection"] for c in probe.api.snapshot()["collections"]]  # Directus shows the ghost
        out = tmp_path / "schema.yaml"
        captured = probe.cli("snapshot", "--out", str(out))
        assert "left out db-init-owned tables shown as collections: positions" in captured.stderr
        assert "positions" not in out.read_text()
        assert probe.cli("diff", "--snapshot", str(probe.path), "--exit-code").returncode == 0
        applied = probe.cli("apply", "--snapshot", str(probe.path))
        assert applied.returncode == 0, applied.stderr
        assert query(dsn, "SELECT to_regclass('public.positions') IS NOT NULL")[0][0]
    finally:
        execute(dsn, "DELETE FROM directus_collections WHERE collection = 'positions'")
        probe.api.clear_cache()


def test_blank_and_mismatched_snapshots_at_the_boot_step(fresh_db, tmp_path, probe):
    blank = tmp_path / "blank.yaml"
    blank.write_text("# nothing captured yet\n")
    skipped = run_cli("schema-apply", "--dsn", fresh_db, "--snapshot", str(blank))
    assert skipped.returncode == 0 and "is blank): skipped" in skipped.stderr
    absent = run_cli("schema-apply", "--dsn", fresh_db, "--snapshot", str(tmp_path / "absent.yaml"))
    assert absent.returncode == 0 and "is absent): skipped" in absent.stderr
    other = probe.variant(tmp_path, lambda d: d.update(directus="11.16.0"))
    refused = run_cli("schema-apply", "--dsn", fresh_db, "--snapshot", str(other))
    assert refused.returncode == 1
    assert "captured with Directus 11.16.0, this is Directus 11.17.4" in refused.stderr


def test_boot_round_trips_and_refuses_a_stale_snapshot_that_would_delete_data(probe, tmp_path, pre_db_init):
    def drop_tags(data):
        data["collections"] = [c for c in data["collections"] if c["collection"] != "probe_tags"]
        data["fields"] = [f for f in data["fields"] if f["collection"] != "probe_tags"]
        data["relations"] = []

    stale = probe.variant(tmp_path, drop_tags)
    current = tmp_path / "schema.yaml"
    current.write_text(probe.path.read_text())
    with NativeStack(snapshot_path=current, db_init_dir=pre_db_init) as stack:
        api = Directus(stack.url, stack.info.admin_token)
        assert api.snapshot() == probe.data  # snapshot -> apply on a fresh database -> the same snapshot
        item = api.post("/items/probe_items", {"name": "kept"})
        api.post("/items/probe_tags", {"item": item["id"]})

        stack.stop_directus()
        current.write_text(stale.read_text())
        with pytest.raises(StackError) as info:
            stack.boot()
        assert "FAILED at step 3/5 (schema apply)" in info.value.what
        log = stack.boot_output()
        assert "refusing to apply" in log
        assert "collection probe_tags: delete: drops the table with its 2 fields and 1 relation: 1 row would be deleted" in log
        assert query(stack.info.dsn, "SELECT count(*) FROM probe_tags")[0][0] == 1

        stack.extra_env["TRM_DIRECTUS_VERSION"] = "11.16.0"
        with pytest.raises(StackError):
            stack.boot()
        assert "this is Directus 11.16.0" in stack.boot_output()
        del stack.extra_env["TRM_DIRECTUS_VERSION"]

        token = allowance.digest(current.read_bytes())[:12]
        stack.extra_env["SCHEMA_APPLY_ALLOW_DESTRUCTIVE"] = token
        stack.boot()
        assert f"SCHEMA_APPLY_ALLOW_DESTRUCTIVE allows snapshot {token}: applying 1 destructive change(s)" in stack.boot_output()
        assert query(stack.info.dsn, "SELECT to_regclass('probe_tags')")[0][0] is None
        assert [c["collection"] for c in api.snapshot()["collections"]] == ["probe_items"]


def test_drift_gate_is_clean_on_committed_artifacts_and_exits_2_on_a_drifted_copy(probe, tmp_path):
    db_init = copy_pre_schema_db_init(tmp_path / "db-init")
    report = drift.gate(probe.path, db_init)
    assert report.clean, report.render_text()
    assert report.diff.normalised == [] and report.timings["total"] > 0

    # Deliberate drift: raw SQL on a Directus-managed table (a default and an unknown column).
    (db_init / "post").mkdir(exist_ok=True)
    (db_init / "post" / "100_raw_change.sql").write_text(
        "ALTER TABLE probe_items ALTER COLUMN count SET DEFAULT 5;\nALTER TABLE probe_items ADD COLUMN sneaky text;\n"
    )
    md = tmp_path / "drift.md"
    result = run_cli("drift", "--snapshot", str(probe.path), "--db-init", str(db_init), "--report", str(md), timeout=600)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "drift gate: DRIFT" in result.stdout
    assert "differs probe_items.count" in result.stdout and "schema.default_value: 5 -> 0" in result.stdout
    assert "probe_items.sneaky" in result.stdout
    assert md.read_text().startswith("# Drift gate: drift found")
    assert os.path.getsize(md) > 200
