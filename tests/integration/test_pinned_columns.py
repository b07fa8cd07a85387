"""Schema authority stays with Directus (design rule 9): no database object pins a Directus-managed column.

On a fully booted stack seeded with Rally Albania and the second club, with race-day rows (positions,
crossings, penalties, results) written the processor's way:
- no trigger, view, rule, policy or generated column depends on a column of a Directus-managed
  table (pg_depend), and the check finds each of those kinds when one is there;
- the schema of every Directus-managed field can be changed through the REST API (its type and
  current default re-stated: Directus re-states the column type each time, which PostgreSQL refuses for a
  pinned column), and the two changes of issue #22 answer 200;
- the schema guard classifies a change to a pinned column as BLOCKED, naming the object, before
  Directus is asked to apply anything.
"""

from __future__ import annotations

import copy

import psycopg
import pytest

from tests.conftest import REPO, admin_env, execute, query, run_cli
from trm_directus.directus.api import Directus, DirectusError
from trm_directus.gates import race_data
from trm_directus.schema import dependents, normalize, snapshot
from trm_directus.schema import diff as diffs
from trm_directus.seed import loader
from trm_directus.seed import seed_file as document
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]

SEEDS = ("rally-albania-2026.yaml", "adriatic-trail-club.yaml")
COMMITTED = REPO / "snapshots" / "schema.yaml"


@pytest.fixture(scope="module")
def seeded():
    with NativeStack(from_template=True) as stack:  # its own copy: the test alters every column
        api = Directus(stack.url, stack.info.admin_token)
        for name in SEEDS:
            loader.load(api, document.load(REPO / "seeds" / name))
        written = race_data.write(stack.info.dsn)
        assert all(written.values()), written
        yield stack, api


def pins(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [f"{p.kind}: {p.line()}" for p in dependents.pinned(conn)]


def test_no_database_object_pins_a_directus_managed_column_and_the_check_finds_each_kind(seeded):
    dsn = seeded[0].info.dsn
    found = pins(dsn)
    assert not found, "database objects pin Directus-managed columns:\n" + "\n".join(found)
    scratch = [
        "CREATE TRIGGER scratch_of BEFORE UPDATE OF plate ON vehicles FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "CREATE TRIGGER scratch_when BEFORE UPDATE ON entries FOR EACH ROW WHEN (OLD.status <> NEW.status) "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "CREATE VIEW scratch_view AS SELECT name FROM organizations",
        "CREATE RULE scratch_rule AS ON INSERT TO classes WHERE NEW.code = 'X-0' DO INSTEAD NOTHING",
        "CREATE POLICY scratch_policy ON devices USING (imei <> '')",
        "ALTER TABLE vehicles ADD COLUMN scratch_generated text GENERATED ALWAYS AS (make || model) STORED",
        "CREATE TRIGGER scratch_users BEFORE UPDATE OF email ON directus_users FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    ]
    for statement in scratch:
        execute(dsn, statement)
    try:
        assert pins(dsn) == [
            "view or rule: classes.code is pinned by rule scratch_rule on classes",
            "policy: devices.imei is pinned by policy scratch_policy on table devices",
            "trigger: directus_users.email is pinned by trigger scratch_users on directus_users",
            "trigger: entries.status is pinned by trigger scratch_when on entries",
            "view or rule: organizations.name is pinned by view scratch_view",
            "generated column: vehicles.make is pinned by generated column vehicles.scratch_generated",
            "generated column: vehicles.model is pinned by generated column vehicles.scratch_generated",
            "trigger: vehicles.plate is pinned by trigger scratch_of on vehicles",
        ]
    finally:
        execute(
            dsn,
            "DROP TRIGGER scratch_of ON vehicles; DROP TRIGGER scratch_when ON entries; DROP VIEW scratch_view; "
            "DROP RULE scratch_rule ON classes; DROP POLICY scratch_policy ON devices; "
            "ALTER TABLE vehicles DROP COLUMN scratch_generated; DROP TRIGGER scratch_users ON directus_users",
        )
    assert pins(dsn) == []


def test_the_schema_of_every_directus_managed_field_can_be_changed_through_rest(seeded):
    _, api = seeded
    committed = snapshot.read(COMMITTED)
    # Primary keys are left out: Directus 11.17.4 cannot re-state them on PostgreSQL at all (knex
    # drops NOT NULL before re-adding it, which PostgreSQL refuses for a primary-key column).
    fields = [
        (f["collection"], f["field"], f["type"])
        for f in committed["fields"]
        if f.get("schema") and not f["schema"].get("is_primary_key")
    ]
    print(f"re-stating the default of {len(fields)} fields (primary keys left out: Directus cannot alter them)")
    failed = []
    for collection, field, type_ in fields:
        live = api.get(f"/fields/{collection}/{field}")["schema"]
        # The type is re-stated too: without it Directus takes the generic one from its schema cache
        # and turns a geometry(Point, 4326) column into geometry (measured).
        body = {"type": type_, "schema": {"default_value": live["default_value"]}}
        try:
            api.patch(f"/fields/{collection}/{field}", body)
        except DirectusError as exc:
            failed.append(f"{collection}.{field}: {exc}")
    assert not failed, f"{len(failed)} of {len(fields)} fields could not be changed:\n" + "\n".join(failed)
    assert len(fields) > 150
    # Re-stated, not changed: the schema is still the committed one.
    live = snapshot.without_tables(api.snapshot(), snapshot.owned_tables(REPO / "db-init"))[0]
    assert diffs.compute(live, committed, normalise=normalize.normalise).empty

    # The two changes of issue #22 (answered 500 before post/109), and back.
    type_default = api.patch("/fields/waypoints/type", {"schema": {"default_value": "WPM"}})
    assert type_default["schema"]["default_value"] == "WPM"
    status_length = api.patch("/fields/stages/status", {"schema": {"max_length": 60}})
    assert status_length["schema"]["max_length"] == 60
    was = {(f["collection"], f["field"]): f.get("schema") for f in committed["fields"]}
    api.patch("/fields/waypoints/type", {"schema": {"default_value": was["waypoints", "type"]["default_value"]}})
    api.patch("/fields/stages/status", {"schema": {"max_length": was["stages", "status"]["max_length"]}})
    live = snapshot.without_tables(api.snapshot(), snapshot.owned_tables(REPO / "db-init"))[0]
    assert diffs.compute(live, committed, normalise=normalize.normalise).empty


def test_the_guard_blocks_a_change_to_a_pinned_column_before_directus_applies_it(seeded, tmp_path):
    stack, _ = seeded
    dsn = stack.info.dsn
    data = copy.deepcopy(snapshot.read(COMMITTED))
    [plate] = [f for f in data["fields"] if (f["collection"], f["field"]) == ("vehicles", "plate")]
    plate["schema"]["default_value"] = "TBD"  # a safe change on its own
    variant = tmp_path / "schema.yaml"
    snapshot.write(variant, data)
    target = ["--snapshot", str(variant), "--against", stack.url, "--dsn", dsn]
    default = "SELECT column_default FROM information_schema.columns WHERE table_name = 'vehicles' AND column_name = 'plate'"
    before = query(dsn, default)
    execute(
        dsn,
        "CREATE TRIGGER scratch_pin BEFORE UPDATE OF plate ON vehicles FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    )
    try:
        refused = run_cli("apply", *target, env=admin_env(stack))
    finally:
        execute(dsn, "DROP TRIGGER scratch_pin ON vehicles")
    out = " ".join((refused.stdout + refused.stderr).split())
    print(refused.stdout + refused.stderr)
    assert refused.returncode == 1
    assert "0 safe, 0 checked, 0 destructive, 1 blocked" in out
    assert (
        "BLOCKED field vehicles.plate: default_value: no data changes: the column is pinned by trigger scratch_pin on vehicles"
        in out
    )
    assert "1 change(s) would fail on a column a database object pins" in out
    assert query(dsn, default) == before  # Directus was never asked: the default is unchanged
    allowed = run_cli("apply", *target, "--dry-run", env=admin_env(stack))  # the same change, the trigger gone: safe
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert "1 safe, 0 checked, 0 destructive, 0 blocked" in " ".join(allowed.stdout.split())
