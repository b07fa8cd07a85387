"""Thousands of natural keys in one REST lookup: the seed loader chunks its `_in` filters (real Directus)."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import admin_env, run_cli
from trm_directus.directus.api import MAX_FILTER_CHARS, chunks
from trm_directus.seed import synthetic

pytestmark = pytest.mark.stack("shared")  # a dry run: it writes nothing

ENTRIES = 3000


@pytest.mark.integration
@pytest.mark.directus
@pytest.mark.fault(f"seed with {ENTRIES} users, vehicles and devices (one `_in` filter of {ENTRIES} keys)")
def test_a_seed_with_thousands_of_keys_is_looked_up_in_chunks(stack, tmp_path, fault_report):
    seed = tmp_path / "big.yaml"
    seed.write_text(yaml.safe_dump(synthetic.event(entries=ENTRIES), sort_keys=False))
    result = run_cli("seed", str(seed), "--dry-run", "--against", stack.url, env=admin_env(stack), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(rf"vehicles\s+{ENTRIES}\s+0\s+0", result.stdout), result.stdout
    assert re.search(rf"directus_users\s+{ENTRIES}\s+0\s+0", result.stdout), result.stdout
    requests = int(re.search(r"\((\d+) requests", result.stdout).group(1))
    assert requests > 4  # several GETs per large collection, none of them too long for the server
    fault_report.outcome = (
        f"dry run OK: {ENTRIES} keys per collection looked up in {requests} requests (filters ≤ {MAX_FILTER_CHARS} chars)"
    )
    fault_report.data_lost = "none (dry run)"


def test_chunks_keep_order_and_size():
    values = [f"crew{n:05d}@example.com" for n in range(10_000)] + [7, "é" * 50]
    parts = list(chunks(values, 600))
    assert [v for part in parts for v in part] == values
    assert all(part for part in parts) and len(parts) > 10
    assert list(chunks([], 600)) == [] and list(chunks(["x" * 5000], 600)) == [["x" * 5000]]
