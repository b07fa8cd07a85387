"""Backups with pgBackRest: a lost data directory restored, a point in time, a restore into a new stack.

One stack of its own that archives its WAL (archive_timeout 5 s here, 30 s by default), with Rally
Albania seeded and race-day rows written the processor's way (gates/race_data.py), and a file
uploaded through Directus. Every table, every chunk of `positions` and the migration ledger are
compared by rows and checksums (backup/verify.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request
import uuid
from datetime import timedelta

import psycopg
import pytest

from tests.conftest import REPO, query, timescaledb_installed
from trm_directus.backup import repo as pgbr
from trm_directus.backup import stack as backups
from trm_directus.backup import verify
from trm_directus.directus.api import Directus
from trm_directus.gates import race_data
from trm_directus.seed import loader
from trm_directus.seed import seed_file as document
from trm_directus.stacks.native import NativeStack, health
from trm_directus.stacks.restored import restore_into

pytestmark = [
    pytest.mark.integration,
    pytest.mark.directus,
    pytest.mark.skipif(not pgbr.available(), reason=f"pgBackRest is missing: {pgbr.INSTALL_HINT}"),
]


@pytest.fixture(scope="module")
def bstack():
    os.environ[pgbr.ARCHIVE_TIMEOUT_SETTING] = "5"
    try:
        with NativeStack(from_template=True, backups=True) as s:
            api = Directus(s.url, s.info.admin_token)
            loader.load(api, document.load(REPO / "seeds" / "rally-albania-2026.yaml"))
            race_data.write(s.info.dsn)
            yield s
    finally:
        os.environ.pop(pgbr.ARCHIVE_TIMEOUT_SETTING, None)


def upload(stack: NativeStack, name: str, content: bytes) -> str:
    """A file uploaded through Directus (multipart POST /files); its id."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        f"{stack.url}/files",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {stack.info.admin_token}",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["data"]["id"]


def download(stack: NativeStack, file_id: str) -> bytes:
    req = urllib.request.Request(f"{stack.url}/assets/{file_id}", headers={"Authorization": f"Bearer {stack.info.admin_token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def login_works(stack: NativeStack) -> bool:
    api = Directus.login(stack.url, stack.info.admin_email, stack.info.admin_password)
    return api.get("/users/me")["email"] == stack.info.admin_email


def kill_postgres(stack: NativeStack) -> None:
    """kill -9 the postmaster (a dying disk gives no clean shutdown)."""
    pid = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while stack.postgres.running() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_a_destroyed_data_directory_is_restored_with_every_committed_row(bstack: NativeStack):
    content = b"scrutineering sheet, entry 301\n"
    file_id = upload(bstack, "scrutineering-301.txt", content)
    first = backups.backup_now(bstack, "full")
    assert first["type"] == "full"
    # Written after the backup: they come back from the archived WAL, not from the backup.
    race_data.write(bstack.info.dsn, positions=90)
    with psycopg.connect(bstack.info.dsn, autocommit=True) as conn:
        conn.execute("UPDATE entry_penalties SET seconds = seconds + 1 WHERE status = 'proposed'")
    before = verify.measure(bstack.info.dsn)
    assert before["positions"].rows > 0 and before["entry_penalties"].rows > 0 and before["entry_crossings"].rows > 0
    if timescaledb_installed():
        assert any(name.startswith("chunk:") for name in before), "positions has no chunks: not a hypertable?"
    verify.wait_archived(bstack.info.dsn)

    kill_postgres(bstack)
    shutil.rmtree(bstack.postgres.data_dir)
    assert not bstack.postgres.initialized

    moved = backups.restore_in_place(bstack)
    assert moved["data_aside"] is None  # nothing was left to move aside: the directory was gone
    after = verify.measure(bstack.info.dsn)
    lines, problems = verify.compare(before, after)
    print("\n".join(lines))
    assert problems == []
    assert len(before) > 40  # every collection, Directus's tables, positions' chunks, the ledger
    assert health(bstack.url) == {"status": "ok"}
    assert login_works(bstack)
    assert download(bstack, file_id) == content
    # The restored cluster archives again within archive_timeout (5 s here): PostgreSQL 15 does not after a
    # promotion until its next checkpoint, which the stack forces (backup/stack.py after_postgres).
    race_data.write(bstack.info.dsn, positions=100)
    assert verify.wait_archived(bstack.info.dsn, timeout=20) < 20


def test_restore_to_one_second_before_a_delete_brings_the_entries_back_and_nothing_after(bstack: NativeStack):
    backups.backup_now(bstack, "incr")
    dsn = bstack.info.dsn
    entries = query(dsn, "SELECT count(*) FROM entries")[0][0]
    assert entries > 0
    marker = """INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
                VALUES (%s, now(), '8E', 41, 19, 120, 90, 40, 12, 0)"""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(marker, ("pitr-before",))
        time.sleep(2)
        conn.execute(marker, ("pitr-half-second-before",))
        time.sleep(0.5)
        deleted_at = conn.execute("SELECT now()").fetchone()[0]
        with conn.transaction():  # the operator's mistake: every entry, with what hangs on them
            for table in (
                "entry_penalties",
                "entry_crossings",
                "stage_results",
                "entry_segment_starts",
                "entry_crew",
                "entry_devices",
            ):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM entries")
        conn.execute(marker, ("pitr-after",))
    assert query(dsn, "SELECT count(*) FROM entries")[0][0] == 0
    verify.wait_archived(dsn)

    target = deleted_at - timedelta(seconds=1)
    moved = backups.restore_in_place(bstack, target.isoformat(sep=" "))
    assert moved["data_aside"] is not None and (moved["data_aside"] / "PG_VERSION").exists()  # moved aside, not deleted
    assert query(dsn, "SELECT count(*) FROM entries")[0][0] == entries
    found = {r[0] for r in query(dsn, "SELECT device_id FROM positions WHERE device_id LIKE 'pitr-%'")}
    assert found == {"pitr-before"}  # half a second before the delete is after the target: not there
    assert health(bstack.url) == {"status": "ok"}
    assert login_works(bstack)


def test_restore_into_a_new_stack_leaves_the_source_alone(bstack: NativeStack, tmp_path_factory):
    backups.backup_now(bstack, "incr")
    before = verify.measure(bstack.info.dsn)
    into = tmp_path_factory.mktemp("restored") / "stack"
    restored = restore_into(bstack, into)
    try:
        assert restored.url != bstack.url and restored.info.backup_repo != bstack.info.backup_repo
        problems = verify.compare(before, verify.measure(restored.info.dsn))[1]
        assert problems == []
        assert health(restored.url) == {"status": "ok"} and login_works(restored)
        assert health(bstack.url) == {"status": "ok"}
        assert verify.compare(before, verify.measure(bstack.info.dsn))[1] == []
    finally:
        restored.stop(purge=True)
