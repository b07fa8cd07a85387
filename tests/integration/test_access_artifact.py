"""Access as code on a stack booted from the committed artifacts: applied at boot, round trip, guarded deletions.

The module's own stack (a copy of the template database): its tests change access rules, use
one-run tokens and restart Directus.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import psycopg
import pytest

from tests.conftest import REPO, execute, query, run_cli
from trm_directus.artifacts import artifact_file as document
from trm_directus.artifacts import registry, sync
from trm_directus.directus.api import Directus

pytestmark = [pytest.mark.integration, pytest.mark.directus]

ACCESS = REPO / "snapshots" / "access.yaml"
COMMITTED = document.read(ACCESS, "access", registry.kinds("access"))
TOKEN = hashlib.sha256(ACCESS.read_bytes()).hexdigest()[:12]


def permission_ids(dsn: str) -> list[int]:
    return [r[0] for r in query(dsn, "SELECT id FROM directus_permissions ORDER BY id")]


def add_stray_permission(api) -> int:
    [viewer] = api.get("/policies", filter={"name": {"_eq": "viewer"}}, fields="id")
    return api.post("/permissions", {"policy": viewer["id"], "collection": "devices", "action": "read", "fields": ["imei"]})["id"]


def test_boot_applies_the_file_and_a_capture_writes_the_same_bytes(stack, api):
    log = stack.build_output()  # the boot that built this database from empty (the template's, for a copy)
    n = len(COMMITTED.section(registry.kinds("access")[3]))
    # Directus's bootstrap made the Administrator role/policy and the public policy: found by name, kept.
    assert (
        "access artifacts: applied access.yaml (roles 1 to create, 1 unchanged; policies 7 to create, 2 unchanged; "
        f"access 1 to create, 2 unchanged; permissions {n} to create, 0 unchanged)"
    ) in log
    assert query(stack.info.dsn, "SELECT count(*) FROM directus_permissions")[0][0] == n
    out = stack.state_dir / "access-captured.yaml"
    result = run_cli("access-snapshot", "--out", str(out), "--dsn", stack.info.dsn)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == ACCESS.read_text()
    assert run_cli("access-diff", "--dsn", stack.info.dsn).returncode == 0
    with psycopg.connect(stack.info.dsn) as conn:
        assert sync.differences(conn, ACCESS, "access") == []
    # Directus serves the policies: the public policy reads nothing.
    assert api.get("/permissions", filter={"policy": {"name": {"_eq": "$t:public_label"}}}) == []


def test_a_permission_that_would_disappear_is_refused_unless_allowed_once(stack, api):
    stray = add_stray_permission(api)
    before = permission_ids(stack.info.dsn)
    diff = run_cli("access-diff", "--dsn", stack.info.dsn)
    assert diff.returncode == 1
    assert "  delete permission viewer: read devices" in diff.stdout
    assert f"ACCESS_APPLY_ALLOW_DESTRUCTIVE={TOKEN}" in diff.stdout
    # The boot step refuses, names the permission and the one-run token; nothing is written.
    refused = run_cli("schema-apply", "--dsn", stack.info.dsn, "--snapshot", str(REPO / "snapshots" / "schema.yaml"))
    assert refused.returncode != 0
    assert "1 access rule(s) in the database are not in the file and would be deleted; nothing was applied" in refused.stderr
    assert "permission viewer: read devices" in refused.stderr
    assert f"set ACCESS_APPLY_ALLOW_DESTRUCTIVE={TOKEN} for one run" in refused.stderr
    assert permission_ids(stack.info.dsn) == before
    # A token of another file does nothing.
    other = run_cli("access-apply", "--dsn", stack.info.dsn, "--allow-destructive", "0123456789ab")
    assert other.returncode != 0 and "was given for another snapshot" in other.stderr
    assert permission_ids(stack.info.dsn) == before
    # The right token deletes it once ...
    allowed = run_cli("access-apply", "--dsn", stack.info.dsn, "--allow-destructive", TOKEN)
    assert allowed.returncode == 0, allowed.stderr
    assert "delete permission viewer: read devices" in allowed.stdout
    assert stray not in permission_ids(stack.info.dsn)
    with psycopg.connect(stack.info.dsn) as conn:
        assert sync.differences(conn, ACCESS, "access") == []
    # ... and never again on this database.
    stray = add_stray_permission(api)
    again = run_cli("access-apply", "--dsn", stack.info.dsn, "--allow-destructive", TOKEN)
    assert again.returncode != 0 and "was already used" in again.stderr
    allowed = run_cli(
        "schema-apply",
        "--dsn",
        stack.info.dsn,
        "--snapshot",
        str(REPO / "snapshots" / "schema.yaml"),
        env={"ACCESS_APPLY_ALLOW_DESTRUCTIVE": TOKEN},
    )
    assert allowed.returncode != 0 and "was already used" in allowed.stderr
    api.delete(f"/permissions/{stray}")  # an operator removes it by hand: the database matches the file again
    with psycopg.connect(stack.info.dsn) as conn:
        assert sync.differences(conn, ACCESS, "access") == []


def test_a_changed_filter_is_put_back_without_an_allowance(stack, api):
    [perm] = api.get(
        "/permissions",
        filter={"policy": {"name": {"_eq": "participant"}}, "collection": {"_eq": "entries"}, "action": {"_eq": "read"}},
        fields="id,permissions",
    )
    api.patch(f"/permissions/{perm['id']}", {"permissions": {}})
    applied = run_cli("access-apply", "--dsn", stack.info.dsn)
    assert applied.returncode == 0, applied.stderr
    assert "update permission participant: read entries: permissions" in applied.stdout
    assert api.get(f"/permissions/{perm['id']}", fields="permissions")["permissions"] == perm["permissions"]


def links(dsn: str, user: str) -> set[str]:
    """The org-role policies linked to `user` (directus_access rows with the user set)."""
    rows = query(
        dsn,
        'SELECT p.name FROM directus_access a JOIN directus_policies p ON p.id = a.policy WHERE a."user" = %s',
        (user,),
    )
    return {r[0] for r in rows}


def eventually(check, seconds: float = 10.0):
    """The reconcile runs just after the write's commit: poll until `check()` is true."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the policy links did not follow organization_users within 10 s"
        time.sleep(0.1)


def test_policy_links_follow_the_users_org_roles_and_stay_out_of_the_file(stack, api):
    dsn = stack.info.dsn
    [member] = api.get("/roles", filter={"name": {"_eq": "Member"}}, fields="id")
    tag = uuid.uuid4().hex[:8]
    orgs = [api.post("/items/organizations", {"name": f"Links {tag} {n}", "slug": f"links-{tag}-{n}"})["id"] for n in (1, 2)]
    email, password = f"links-{tag}@example.com", f"links-{tag}-Pa55!"
    user = api.post("/users", {"email": email, "password": password, "role": member["id"]})["id"]
    own = Directus.login(stack.url, email, password)
    assert links(dsn, user) == set()
    assert own.get("/users/me", fields="id")["id"] == user  # Directus caches this user's (empty) policy list
    # A membership links its role's policy inside the write: usable with the very next request.
    first = api.post("/items/organization_users", {"organization_id": orgs[0], "user_id": user, "role": "viewer"})["id"]
    assert links(dsn, user) == {"viewer"}
    eventually(lambda: [o["id"] for o in own.get("/items/organizations", fields="id")] == [orgs[0]])
    api.post("/items/organization_users", {"organization_id": orgs[1], "user_id": user, "role": "marshal"})
    assert links(dsn, user) == {"viewer", "marshal"}
    # A changed role: the new policy at once, the old one's link removed once nothing names it.
    api.patch(f"/items/organization_users/{first}", {"role": "race-director"})
    assert "race-director" in links(dsn, user)
    eventually(lambda: links(dsn, user) == {"race-director", "marshal"})
    api.delete(f"/items/organization_users/{first}")
    eventually(lambda: links(dsn, user) == {"marshal"})
    eventually(lambda: [o["id"] for o in own.get("/items/organizations", fields="id")] == [orgs[1]])
    # Derived links are not access rules: the file still matches and a capture leaves them out.
    with psycopg.connect(dsn) as conn:
        assert sync.differences(conn, ACCESS, "access") == []
    out = stack.state_dir / "access-links-captured.yaml"
    result = run_cli("access-snapshot", "--out", str(out), "--dsn", dsn)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == ACCESS.read_text()


def test_server_start_reconciles_links_written_around_directus(stack, api):
    """A database changed behind Directus's back (SQL, a restore, an older release that linked the
    org policies to the Member role) gets its links put right when Directus starts."""
    dsn = stack.info.dsn
    tag = uuid.uuid4().hex[:8]
    org = api.post("/items/organizations", {"name": f"Restart {tag}", "slug": f"restart-{tag}"})["id"]
    held = api.post("/users", {"email": f"held-{tag}@example.com"})["id"]
    stray = api.post("/users", {"email": f"stray-{tag}@example.com"})["id"]
    api.post("/items/organization_users", {"organization_id": org, "user_id": held, "role": "timekeeper"})
    eventually(lambda: links(dsn, held) == {"timekeeper"})
    execute(dsn, 'DELETE FROM directus_access WHERE "user" = %s', (held,))
    execute(
        dsn,
        'INSERT INTO directus_access (id, policy, "user") '
        "SELECT gen_random_uuid(), id, %s FROM directus_policies WHERE name = %s",
        (stray, "org-admin"),
    )
    assert links(dsn, held) == set() and links(dsn, stray) == {"org-admin"}
    stack.stop_directus()
    stack.boot()
    eventually(lambda: links(dsn, held) == {"timekeeper"} and links(dsn, stray) == set())
    assert "policy link(s) reconciled with organization_users" in (stack.logs_dir / "directus.log").read_text()
