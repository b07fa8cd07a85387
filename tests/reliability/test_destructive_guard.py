"""The schema guard on a real stack: a snapshot that narrows, rounds or constrains columns of tables with data.

At boot (entrypoint step 3) and through `apply`, destructive changes are refused with the rows they
would affect, counted in the database; only the snapshot's own token allows them, once.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.conftest import admin_env, copy_pre_schema_db_init, execute, query, run_cli
from trm_directus.directus.api import Directus
from trm_directus.errors import StackError
from trm_directus.schema import allowance, capture, snapshot
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]

ALLOW = "SCHEMA_APPLY_ALLOW_DESTRUCTIVE"
ROWS = [  # name (3 longer than 5 characters), rating (2 with a fraction), note (4 NULL)
    ("Motorsport Club Albania", 4.5, None),
    ("ACI", 3.0, None),
    ("Rally Team Tirana", 2.25, None),
    ("KTM", 5.0, "kept"),
    ("Federata", 1.0, None),
]


def create_collection(api: Directus, name: str) -> None:
    fields = [
        {
            "field": "id",
            "type": "integer",
            "meta": {"hidden": True},
            "schema": {"is_primary_key": True, "has_auto_increment": True},
        },
        {"field": "name", "type": "string", "meta": {}, "schema": {"max_length": 200}},
        {"field": "rating", "type": "float", "meta": {}, "schema": {}},
        {"field": "note", "type": "string", "meta": {}, "schema": {}},
    ]
    api.post("/collections", {"collection": name, "meta": {"note": "guard probe"}, "schema": {}, "fields": fields})
    api.post(f"/items/{name}", [{"name": n, "rating": r, "note": note} for n, r, note in ROWS])


class Guarded:
    def __init__(self, stack: NativeStack, base: dict, tmp: Path) -> None:
        self.stack, self.base, self.tmp = stack, base, tmp
        self.api = Directus(stack.url, stack.info.admin_token)

    def variant(self, name: str, edits: dict[str, dict]) -> Path:
        """A snapshot equal to the base but with `collection.field` schema edits (and type changes)."""
        data = copy.deepcopy(self.base)
        for f in data["fields"]:
            edit = edits.get(f"{f['collection']}.{f['field']}")
            if edit:
                f["type"] = edit.get("type", f["type"])
                f["schema"].update({k: v for k, v in edit.items() if k != "type"})
        path = self.tmp / f"{name}.yaml"
        snapshot.write(path, data)
        return path

    def boot(self, snapshot_path: Path, allow: str | None = None) -> tuple[bool, str]:
        self.stack.stop_directus()
        self.stack.snapshot_path = snapshot_path
        self.stack.extra_env.pop(ALLOW, None)
        if allow is not None:
            self.stack.extra_env[ALLOW] = allow
        try:
            self.stack.boot()
            return True, self.stack.boot_output()
        except StackError:
            return False, self.stack.boot_output()

    def column(self, table: str) -> list[tuple]:
        return query(self.stack.info.dsn, f"SELECT name, rating, note FROM {table} ORDER BY id")

    def max_length(self, table: str) -> int:
        sql = "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = %s AND column_name = 'name'"
        return query(self.stack.info.dsn, sql, (table,))[0][0]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("guard")
    db_init = copy_pre_schema_db_init(base_dir / "db-init")
    stack = NativeStack(base_dir / "stack", persistent=True, snapshot_path=base_dir / "absent.yaml", db_init_dir=db_init)
    try:
        stack.start()
        api = Directus(stack.url, stack.info.admin_token)
        create_collection(api, "orgs")
        create_collection(api, "fleet")
        base = capture.clean(capture.from_native(stack), snapshot.owned_tables(db_init))
        (base_dir / "base.yaml").write_text(base.text)
        yield Guarded(stack, base.data, base_dir)
    finally:
        stack.stop(purge=True)


def token(path: Path) -> str:
    return allowance.digest(path.read_bytes())[:12]


def excerpt(log: str) -> str:
    keep = ("schema guard", "  DESTRUCTIVE", "  BLOCKED", "  checked", "  safe", "FAILED", "What to do", "WARNING", "refusing")
    return "\n".join(ln for ln in log.splitlines() if ln.startswith(keep) or ("row" in ln and ln.startswith("  ")))


@pytest.mark.fault("snapshot narrows, rounds and constrains columns with data (REST apply)")
# The REST test runs first: the boot test ends with Directus stopped (its last boot is refused).
def test_rest_apply_counts_every_affected_row_and_blocks_what_the_database_would_reject(guarded, fault_report):
    stack = guarded.stack
    multi = guarded.variant(
        "multi",
        {
            "fleet.name": {"max_length": 5},
            "fleet.rating": {"type": "integer", "data_type": "integer", "numeric_precision": 32, "numeric_scale": 0},
            "fleet.note": {"is_nullable": False},
        },
    )
    target = ["--snapshot", str(multi), "--against", stack.url, "--dsn", stack.info.dsn]
    before = guarded.column("fleet")
    refused = run_cli("apply", *target, "--allow-destructive", token(multi), env=admin_env(stack))
    print(f"--- guard output of `apply` ---\n{refused.stdout}\n{refused.stderr}")
    assert refused.returncode == 1
    out = " ".join((refused.stdout + refused.stderr).split())
    assert "2 destructive, 1 blocked" in out
    assert "field fleet.name: varchar(200) → varchar(5): narrowing truncates longer values: 3 rows would be truncated" in out
    assert "field fleet.rating: real → integer: fractions are rounded away: 2 rows would be rounded" in out
    assert "field fleet.note: nullable → NOT NULL: NULL values make the change fail: 4 rows are NULL" in out
    assert "would fail on the data in the database" in out and "no setting overrides this" in out
    assert guarded.column("fleet") == before

    execute(stack.info.dsn, "UPDATE fleet SET note = 'filled' WHERE note IS NULL")
    without = run_cli("apply", *target, env=admin_env(stack))
    assert without.returncode == 1 and f"pass --allow-destructive {token(multi)} for one run" in without.stderr
    assert "checked field fleet.note: nullable → NOT NULL: NULL values make the change fail: 0 rows are NULL" in " ".join(
        without.stdout.split()
    )
    applied = run_cli("apply", *target, "--allow-destructive", token(multi), env=admin_env(stack))
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert [(n, r) for n, r, _ in guarded.column("fleet")] == [
        ("Motor", 4),  # real 4.5 → integer rounds half to even
        ("ACI", 3),
        ("Rally", 2),
        ("KTM", 5),
        ("Feder", 1),
    ]
    fault_report.outcome = (
        "refused listing 3 truncated, 2 rounded, 4 NULL rows (NOT NULL blocked even with the token); "
        "applied with the token once the data was fixed"
    )
    fault_report.data_lost = "none unless allowed"


@pytest.mark.slow  # six boots of the entrypoint on one database
@pytest.mark.fault("stale snapshot narrows a column of a table with data (boot, step 3)")
def test_boot_refuses_a_narrowing_and_only_the_snapshot_token_allows_it_once(guarded, fault_report):
    before = guarded.column("orgs")
    narrow = guarded.variant("narrow", {"orgs.name": {"max_length": 5}})

    ok, log = guarded.boot(narrow)
    print(f"--- guard output at boot, no token ---\n{excerpt(log)}")
    assert not ok and "FAILED at step 3/5 (schema apply)" in log
    assert (
        "DESTRUCTIVE field orgs.name: varchar(200) → varchar(5): narrowing truncates longer values: 3 rows would be truncated"
        in " ".join(log.split())
    )
    assert f"set {ALLOW}={token(narrow)} for one run" in log
    assert guarded.column("orgs") == before and guarded.max_length("orgs") == 200  # nothing changed

    ok, log = guarded.boot(narrow, allow=token(guarded.tmp / "base.yaml"))
    assert not ok and f"was given for another snapshot (this one is {token(narrow)})" in log
    ok, log = guarded.boot(narrow, allow="true")
    assert not ok and "is not accepted any more" in log
    assert guarded.column("orgs") == before and guarded.max_length("orgs") == 200

    ok, log = guarded.boot(narrow, allow=token(narrow))
    assert ok, log[-3000:]
    assert f"{ALLOW} allows snapshot {token(narrow)}: applying 1 destructive change(s)" in log
    assert guarded.max_length("orgs") == 5
    assert [r[0] for r in guarded.column("orgs")] == ["Motor", "ACI", "Rally", "KTM", "Feder"]
    sql = "SELECT changes FROM trm_db_init.schema_allowances WHERE snapshot_sha256 LIKE %s"
    assert "orgs.name" in query(guarded.stack.info.dsn, sql, (token(narrow) + "%",))[0][0]

    # The same token left in the environment: someone widens the column again and stores a long name.
    guarded.api.patch("/fields/orgs/name", {"schema": {"max_length": 200}})
    execute(guarded.stack.info.dsn, "UPDATE orgs SET name = 'Motorsport Club Albania' WHERE id = 1")
    ok, log = guarded.boot(narrow, allow=token(narrow))
    assert not ok and "was already used on" in log and "1 rows would be truncated" not in log
    assert "1 row would be truncated" in log
    assert guarded.column("orgs")[0][0] == "Motorsport Club Albania"

    fault_report.outcome = (
        "refused at step 3/5 naming '3 rows would be truncated' and the token; other snapshot's token, `true` and the "
        "token once used: refused; the right token: applied once"
    )
    fault_report.data_lost = "none unless allowed (the allowed run truncated the 3 values it listed)"
