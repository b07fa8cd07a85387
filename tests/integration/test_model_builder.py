"""The scripted Phase 1 model (`model build`) reproduces the committed snapshot and is idempotent."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, copy_pre_schema_db_init
from trm_directus.directus.api import Directus
from trm_directus.model import registry
from trm_directus.schema import diff as diffs
from trm_directus.schema import normalize, snapshot
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def test_model_build_on_an_empty_directus_yields_the_committed_snapshot(tmp_path):
    db_init = copy_pre_schema_db_init(tmp_path / "db-init")
    with NativeStack(snapshot_path=tmp_path / "absent.yaml", db_init_dir=db_init) as stack:
        api = Directus(stack.url, stack.info.admin_token)
        first = registry.build(api)
        assert len(first.created) >= 50 and not first.updated
        second = registry.build(api)
        assert (second.created, second.updated) == ([], [])
        live, _ = snapshot.without_tables(api.snapshot(), {"positions"})
    committed = snapshot.read(REPO / "snapshots" / "schema.yaml")
    d = diffs.compute(live, committed, normalise=normalize.normalise)
    assert d.empty, d.render_text()
