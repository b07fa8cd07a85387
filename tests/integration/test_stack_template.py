"""Template databases on real stacks (stacks/template.py): a stale template is never used.

Two ways a template could be stale: its inputs changed since it was built (the key changes, so a
new one is built and the old one is never chosen), or the key misses an input (two input sets,
one key): then the copy's first boot has work to do, and the template is refused and deleted.
"""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from tests.conftest import DB_INIT, execute, next_db_init_file, query, timescaledb_installed
from trm_directus.errors import StackError
from trm_directus.secretfile import write_private
from trm_directus.services import proc
from trm_directus.stacks import template, template_key
from trm_directus.stacks.native import NativeStack

pytestmark = [pytest.mark.integration, pytest.mark.directus]


def test_a_changed_input_gets_a_new_template_and_the_old_one_is_never_used(tmp_path):
    db_init = tmp_path / "db-init"
    shutil.copytree(DB_INIT, db_init)
    marker = next_db_init_file(db_init, "template_marker")
    marker.write_text("CREATE TABLE template_marker (x int);\n")
    committed, changed = NativeStack(from_template=True), NativeStack(from_template=True, db_init_dir=db_init)
    try:
        committed.start(boot=False)  # PostgreSQL on a copy of the template: enough to read what the copy holds
        changed.start(boot=False)  # a new template is built for the changed db-init directory
        assert changed.template.key != committed.template.key
        assert changed.template.manifest["inputs"]["db-init"] != committed.template.manifest["inputs"]["db-init"]
        assert query(changed.info.dsn, "SELECT to_regclass('template_marker')::text") == [("template_marker",)]
        assert query(committed.info.dsn, "SELECT to_regclass('template_marker')::text") == [(None,)]
        ledger = "SELECT file_name FROM trm_db_init.ledger ORDER BY phase = 'post', number"
        assert [r[0] for r in query(changed.info.dsn, ledger)] == sorted(p.name for p in db_init.glob("*.sql")) + sorted(
            p.name for p in (db_init / "post").glob("*.sql")
        )
        assert marker.name not in [r[0] for r in query(committed.info.dsn, ledger)]
        if timescaledb_installed():  # a copy of a stopped cluster: its hypertable, and a scheduler of its own
            hypertables = "SELECT hypertable_name FROM timescaledb_information.hypertables"
            assert query(committed.info.dsn, hypertables) == [("positions",)]
    finally:
        committed.stop(purge=True)
        changed.stop(purge=True)
        if changed.template is not None:  # built for this test only: no use to anyone else
            shutil.rmtree(changed.template.path, ignore_errors=True)


def test_a_template_whose_copy_has_work_to_do_is_refused_and_deleted():
    # What a key that missed an input would do: a template of other inputs under this stack's key.
    # The other inputs: a database without one of ui.yaml's panels (the boot puts it back: work).
    stale = NativeStack(from_template=True, env={"TRM_TEMPLATE_PROBE": uuid.uuid4().hex})  # a key of its own
    target = template.root() / template_key.key(template.inputs_of(stale))
    source = NativeStack(from_template=True)
    try:
        source.start(boot=False)
        assert execute(source.info.dsn, "DELETE FROM directus_panels WHERE name = 'Entries per class'") == 1
        source.postgres.stop()
        target.mkdir(mode=0o700)
        proc.run(["cp", "-a", str(source.postgres.data_dir), str(target / "data")], step="plant a template")
        shutil.copyfile(source.template.build_log, target / "build.log")
        credentials = {"db_password": source.info.db["password"], "admin_password": source.info.admin_password}
        write_private(target / "manifest.json", json.dumps({**source.template.manifest, **credentials}))
    finally:
        source.stop(purge=True)
    with pytest.raises(StackError) as info, stale:
        pytest.fail("a stack must not come up on a stale template")
    assert f"template database {target.name} was stale: the first boot of its copy did work in ui artifacts" in info.value.what
    assert "ui artifacts: applied ui.yaml" in info.value.log_tail
    assert not target.exists() and not stale.state_dir.exists()
