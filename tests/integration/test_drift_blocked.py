"""The drift gate on raw SQL against a Directus-managed column (issue #22): exit 2 and a report, never a stack trace.

The committed artifacts plus one scratch post-schema file (199, above every real number):
- `ALTER TABLE waypoints ALTER COLUMN type DROP NOT NULL` (a hand fix): drift, the field named;
- the same with a trigger that names the column in `UPDATE OF`: the trigger is reported as pinning
  the column, the committed snapshot as not applicable to that database (the field, the change and
  the trigger), and the second boot's refusal at step 3 in our own words.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.directus]

HAND_FIX = "ALTER TABLE waypoints ALTER COLUMN type DROP NOT NULL;\n"
PIN = (
    "CREATE TRIGGER scratch_pin BEFORE UPDATE OF type ON waypoints FOR EACH ROW "
    "EXECUTE FUNCTION suppress_redundant_updates_trigger();\n"
)


def drift_gate(tmp_path: Path, sql: str) -> tuple[int, str, dict]:
    db_init = tmp_path / "db-init"
    shutil.copytree(REPO / "db-init", db_init)
    (db_init / "post" / "199_hand_fix.sql").write_text(sql)
    md = tmp_path / "drift.md"
    result = run_cli("drift", "--db-init", str(db_init), "--report", str(md), timeout=900)
    out = result.stdout + result.stderr
    print(out)
    assert "Traceback" not in out and "\n    at " not in out  # no Python or Node stack trace
    return result.returncode, " ".join(out.split()), json.loads(md.with_suffix(".json").read_text())


def test_a_hand_fix_on_a_directus_column_is_drift_naming_the_field(tmp_path):
    code, out, verdict = drift_gate(tmp_path, HAND_FIX)
    assert code == 2 and not verdict["clean"]
    assert "differs waypoints.type schema.is_nullable: true -> false" in out
    assert verdict["pinned"] == [] and verdict["blocked"] == []


def test_a_column_pinned_by_raw_sql_is_reported_with_the_field_the_change_and_the_trigger(tmp_path):
    code, out, verdict = drift_gate(tmp_path, HAND_FIX + PIN)
    assert code == 2 and not verdict["clean"]
    assert "differs waypoints.type schema.is_nullable: true -> false" in out
    assert verdict["pinned"] == ["waypoints.type is pinned by trigger scratch_pin on waypoints"]
    assert [line.split(": the column")[0] for line in verdict["blocked"]] == [
        "field waypoints.type: nullable → NOT NULL: NULL values make the change fail"
    ]
    assert "pinned by trigger scratch_pin on waypoints" in verdict["blocked"][0]
    failure = " ".join(verdict["idempotency"])
    assert "the second boot failed: Directus boot failed: FAILED at step 3/5 (schema apply)" in failure
    assert "1 change(s) would fail on a column a database object pins" in failure
