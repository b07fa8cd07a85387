"""snapshots/access.yaml without a database: valid, canonical, equal to the role table, every collection covered."""

import json
import re

import pytest
import yaml

from trm_directus import pins
from trm_directus.artifacts import access_table, registry
from trm_directus.artifacts import artifact_file as document
from trm_directus.artifacts.access import ACCESS, ORG_ROLES, PERMISSIONS
from trm_directus.errors import ArtifactError

KINDS = registry.kinds("access")
ORG_POLICIES = set(ORG_ROLES)
OWN_ENTRY = {"entries", "devices", "commands", *access_table.ENTRY_PARTS}


@pytest.fixture(scope="module")
def doc(repo):
    return document.read(repo / "snapshots" / "access.yaml", "access", KINDS)


def schema_collections(repo) -> set[str]:
    schema = yaml.safe_load((repo / "snapshots" / "schema.yaml").read_text())
    return {c["collection"] for c in schema["collections"] if c.get("schema")}


def test_committed_access_file_is_canonical_and_equals_the_role_table(repo, doc):
    path = repo / "snapshots" / "access.yaml"
    assert doc.directus == pins.directus_version(repo)
    assert document.render(doc) == path.read_text()
    built = access_table.build(repo / "snapshots" / "schema.yaml", doc.directus)
    assert document.render(built) == path.read_text(), "run `python -m trm_directus access-snapshot --from-table`"


def test_every_collection_has_access_rules_for_the_org_roles(repo, doc):
    """A collection added without access rules fails here (add it to access_table.py, then regenerate)."""
    readable = {p["collection"] for p in doc.section(PERMISSIONS) if p["action"] == "read" and p["policy"] in ORG_POLICIES}
    missing = schema_collections(repo) - readable
    assert missing == set(), f"collections nobody but an administrator can read: {sorted(missing)}"
    scoped = set(access_table.ORG_PATH) | set(access_table.BY_REGISTRATION) | set(access_table.VIA) | set(access_table.GLOBAL)
    assert scoped >= schema_collections(repo)
    # the org-admin manages every collection of its organisations (commands: the system writes after the create)
    admin = {(p["collection"], p["action"]) for p in doc.section(PERMISSIONS) if p["policy"] == "org-admin"}
    for c in schema_collections(repo) - {"organizations", *access_table.BY_REGISTRATION, *access_table.VIA, *access_table.GLOBAL}:
        assert {(c, a) for a in access_table.CRUD} <= admin, c
    assert {("commands", "create"), ("commands", "read")} <= admin and ("commands", "update") not in admin
    writes = [p for p in doc.section(PERMISSIONS) if p["collection"] in access_table.GLOBAL and p["action"] != "read"]
    assert writes == [], "reference data is written by administrators only"


def test_the_public_policy_reads_nothing_and_org_policies_are_linked_per_user_not_by_role(doc):
    links = {ACCESS.key(a) for a in doc.section(ACCESS)}
    assert ("$t:public_label", None, None) in links
    assert not [p for p in doc.section(PERMISSIONS) if p["policy"] == "$t:public_label"]
    assert ("member", "Member", None) in links
    # org-role policies hang on users, one per role held (trm-integrity links.ts), never on a role
    assert not [link for link in links if link[0] in ORG_POLICIES]
    admin = [p for p in doc.section(KINDS[1]) if p["admin_access"]]
    assert [p["name"] for p in admin] == ["Administrator"]


def test_the_org_roles_are_the_same_in_the_access_file_code_and_the_policy_link_trigger(repo):
    text = (repo / "db-init" / "post" / "107_membership_policy_links.sql").read_text()
    [listed] = re.findall(r"p\.name IN \(([^)]*)\)", text)
    assert sorted(re.findall(r"'([^']+)'", listed)) == sorted(ORG_ROLES)


def test_the_hook_and_the_access_file_take_the_organisation_from_the_same_table(repo, doc):
    """org-scope.json is read by the trm-integrity hook (which org a new row is in) and builds every org filter here."""
    scope = json.loads((repo / "extensions" / "trm-integrity" / "src" / "org-scope.json").read_text())
    assert {c: tuple(p) for c, p in scope["paths"].items()} == access_table.ORG_PATH
    kinds = (scope["paths"], scope["registered"], scope["via"], scope["global"])
    assert set().union(*kinds) == schema_collections(repo)
    assert sum(len(k) for k in kinds) == len(schema_collections(repo)), "a collection belongs to one kind of scope"
    for path in scope["paths"].values():
        assert all(step in scope["parents"] for step in path), path
    # every org filter of a policy follows the collection's path: stages through event_id, never organization_id
    for p in doc.section(PERMISSIONS):
        path = access_table.ORG_PATH.get(p["collection"])
        if p["policy"] in ORG_POLICIES and p["action"] == "read" and path and p["permissions"]:
            first = next(iter(p["permissions"]))
            assert first in (path[0], "_and", "crew"), PERMISSIONS.label(PERMISSIONS.key(p))


def test_every_org_rule_is_scoped_by_the_users_role_in_that_organisation(doc):
    for p in doc.section(PERMISSIONS):
        if p["policy"] not in ORG_POLICIES or p["collection"] in access_table.GLOBAL:
            continue  # reference data (command kinds): every org role reads all of it
        if p["action"] == "create":
            # a catalogue row belongs to no one until registered; the hook (access.ts) decides a create's
            # organisation by its parent, and a validation may not list what has more than 100 rows
            # (Directus cuts the list there): only `organization_id` among the user's memberships
            assert p["permissions"] is None
            assert p["validation"] in (None, {"organization_id": {"_in": "$CURRENT_USER.memberships.organization_id"}}), p
            continue
        text = json.dumps(p["permissions"])
        assert "$CURRENT_USER" in text, PERMISSIONS.label(PERMISSIONS.key(p))
        if p["policy"] == "participant" and p["collection"] in OWN_ENTRY:
            # their own entries: the crew names them (no role test; see access_table.py)
            assert '"crew": {"user_id": {"_eq": "$CURRENT_USER"}}' in text, PERMISSIONS.label(PERMISSIONS.key(p))
            assert '"role"' not in text
        else:
            assert f'"role": {{"_eq": "{p["policy"]}"}}' in text, PERMISSIONS.label(PERMISSIONS.key(p))


def test_contacts_only_for_org_admins_race_directors_and_oneself(doc):
    for p in doc.section(PERMISSIONS):
        if p["collection"] == "directus_users" and p["action"] == "read":
            contact = {"email", "phone", "*"} & set(p["fields"])
            if p["policy"] in ("org-admin", "race-director"):
                assert contact == {"email", "phone"}
            elif p["policy"] == "member":
                assert p["permissions"] == {"id": {"_eq": "$CURRENT_USER"}}
            else:
                assert not contact, p["policy"]


def test_updates_never_move_a_row_to_another_parent(doc):
    for p in doc.section(PERMISSIONS):
        path = access_table.ORG_PATH.get(p["collection"])
        if p["action"] == "update" and path:
            assert path[0] not in p["fields"] and "*" not in p["fields"], PERMISSIONS.label(PERMISSIONS.key(p))


def test_a_permission_naming_an_unknown_policy_is_refused_with_its_line(tmp_path, repo):
    text = (repo / "snapshots" / "access.yaml").read_text()
    text = text.replace("- policy: viewer\n  collection: classes\n", "- policy: viewers\n  collection: classes\n", 1)
    bad = tmp_path / "access.yaml"
    bad.write_text(text)
    with pytest.raises(ArtifactError) as info:
        document.read(bad, "access", KINDS)
    line = text.splitlines().index("- policy: viewers") + 1
    assert f"{bad}:{line}: " in info.value.details and "no policy named 'viewers'" in info.value.details


def test_permission_fields_are_a_sorted_list_in_the_file_and_csv_in_the_database():
    item = PERMISSIONS.normalize({"policy": "p", "collection": "c", "action": "read", "fields": "b,a"})
    assert item["fields"] == ["a", "b"]
    assert PERMISSIONS.encode(item)["fields"] == "a,b"
    assert PERMISSIONS.label(PERMISSIONS.key(item)) == "p: read c"
