"""Access kinds (Directus 11): roles, policies, role/user↔policy links, permissions — all by name.

In the database every reference is an id (a permission's policy, a link's role/user/policy, a
role's parent); in the file it is a name: role and policy by `name`, user by `email`. The public
policy is the link with neither role nor user (Directus's `$t:public_label` policy). Rows the file
does not name are deleted at boot (`prune_at_boot`), but only with the one-run allowance
(`sync.guard`): a permission that would disappear is listed and refused otherwise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg

from ..errors import ArtifactError
from .kind import Item, Key, Kind, KindDiff, new_uuid

# organization_users.role: each names a policy (access_table.py; the policy-link trigger of db-init/post/107)
ORG_ROLES = ("org-admin", "race-director", "timekeeper", "marshal", "participant", "viewer")


def _names(conn: psycopg.Connection, table: str, column: str = "name") -> dict[str, str]:
    """id → name (or e-mail) of every row of a system table."""
    return {str(i): n for i, n in conn.execute(f'SELECT id, "{column}" FROM {table}')}


class _ByName(Kind):
    """A kind whose columns `refs` hold ids of other tables, written as names in the file."""

    refs: ClassVar[dict[str, tuple[str, str]]] = {}  # column -> (table, name column)
    _maps: dict[str, dict[str, str]]

    def _load(self, conn: psycopg.Connection) -> None:
        self._maps = {c: _names(conn, t, n) for c, (t, n) in self.refs.items()}

    def fetch(self, conn: psycopg.Connection):
        self._load(conn)
        return super().fetch(conn)

    def apply_writes(self, conn: psycopg.Connection, d: KindDiff) -> None:
        self._load(conn)  # after the roles and policies of this apply were created
        super().apply_writes(conn, d)

    def from_row(self, conn: psycopg.Connection, row: dict[str, Any]) -> Item:
        named = {c: self._maps[c].get(str(row[c]), row[c]) if row.get(c) is not None else None for c in self.refs}
        return self.normalize(self.decode({**row, **named}))

    def to_row(self, conn: psycopg.Connection, item: Item) -> dict[str, Any]:
        row = super().to_row(conn, self.encode(item))
        for c in self.refs:
            if item.get(c) is None:
                continue
            ids = [i for i, n in self._maps[c].items() if n == item[c]]
            if len(ids) != 1:
                what = "no" if not ids else f"{len(ids)}"
                raise ArtifactError(f"{self.singular} {self.label(self.key(item))}: {what} {c} named {item[c]!r}")
            row[c] = ids[0]
        return row

    def decode(self, row: dict[str, Any]) -> dict[str, Any]:
        return row

    def encode(self, item: Item) -> Item:
        return item

    def check(self, conn: psycopg.Connection, items: list[Item]) -> list[str]:
        problems = []
        for c, (table, column) in self.refs.items():
            if table == "directus_users":
                known = set(_names(conn, table, column).values())
                problems += [
                    f"{self.singular} {self.label(self.key(i))}: no user with {column} {i[c]!r} in this database"
                    for i in items
                    if i.get(c) is not None and i[c] not in known
                ]
        return problems


class Roles(_ByName):
    section = "roles"
    singular = "role"
    table = "directus_roles"
    key_fields = ("name",)
    fields = ("name", "icon", "description", "parent")
    defaults: ClassVar[dict[str, Any]] = {"icon": "supervised_user_circle"}
    refs: ClassVar[dict[str, tuple[str, str]]] = {"parent": ("directus_roles", "name")}
    new_id = staticmethod(new_uuid)

    def to_row(self, conn: psycopg.Connection, item: Item) -> dict[str, Any]:
        # A parent may be created in the same apply: set parents in a second pass (apply_writes).
        return {**super().to_row(conn, {**item, "parent": None}), "parent": None}

    def apply_writes(self, conn: psycopg.Connection, d: KindDiff) -> None:
        super().apply_writes(conn, d)
        self._load(conn)
        ids = {n: i for i, n in self._maps["parent"].items()}
        for item in [*d.to_create, *(new for _, new in d.to_update)]:
            parent = ids.get(item["parent"]) if item.get("parent") else None
            if item.get("parent") and parent is None:
                raise ArtifactError(f"role {item['name']}: no role named {item['parent']!r} (its parent)")
            conn.execute("UPDATE directus_roles SET parent = %s WHERE id = %s", (parent, ids[item["name"]]))


class Policies(_ByName):
    section = "policies"
    singular = "policy"
    table = "directus_policies"
    key_fields = ("name",)
    fields = ("name", "icon", "description", "admin_access", "app_access", "enforce_tfa", "ip_access")
    defaults: ClassVar[dict[str, Any]] = {"icon": "badge", "admin_access": False, "app_access": False, "enforce_tfa": False}
    new_id = staticmethod(new_uuid)


class Access(_ByName):
    """`directus_access`: which role (or user) holds which policy; neither = the public policy."""

    section = "access"
    singular = "access link"
    table = "directus_access"
    key_fields = ("policy", "role", "user")
    nullable_key_fields = frozenset({"role", "user"})
    fields = ("policy", "role", "user", "sort")
    references: ClassVar[dict[str, str]] = {"policy": "policies"}
    refs: ClassVar[dict[str, tuple[str, str]]] = {
        "policy": ("directus_policies", "name"),
        "role": ("directus_roles", "name"),
        "user": ("directus_users", "email"),
    }
    new_id = staticmethod(new_uuid)
    # A user's links to org-role policies are derived from organization_users (trm-integrity
    # links.ts): not captured, not pruned. Links of a role, the public link, and a user's link to
    # any other policy are managed here.
    scope = (
        '"user" IS NULL OR policy NOT IN (SELECT id FROM directus_policies WHERE name IN '
        + "("
        + ", ".join(f"'{r}'" for r in ORG_ROLES)
        + "))"
    )

    def label(self, key: Key) -> str:
        policy, role, user = key
        holder = f"role {role}" if role else f"user {user}" if user else "public"
        return f"{policy} → {holder}"


class Permissions(_ByName):
    """`directus_permissions`: one (policy, collection, action) each, with row filter, validation,
    presets and fields (a list in the file, Directus's comma-separated text in the database)."""

    section = "permissions"
    singular = "permission"
    table = "directus_permissions"
    key_fields = ("policy", "collection", "action")
    fields = ("policy", "collection", "action", "fields", "permissions", "validation", "presets")
    json_fields = frozenset({"permissions", "validation", "presets"})
    references: ClassVar[dict[str, str]] = {"policy": "policies"}
    refs: ClassVar[dict[str, tuple[str, str]]] = {"policy": ("directus_policies", "name")}
    ACTIONS = ("create", "read", "update", "delete", "share")

    def label(self, key: Key) -> str:
        policy, collection, action = key
        return f"{policy}: {action} {collection}"

    def sort_key(self, item: Item) -> tuple:
        action = item.get("action")
        order = self.ACTIONS.index(action) if action in self.ACTIONS else len(self.ACTIONS)
        return (str(item.get("policy")), str(item.get("collection")), order)

    def normalize(self, item: Item) -> Item:
        out = super().normalize(item)
        f = out.get("fields")
        if isinstance(f, str):
            f = [x for x in f.split(",") if x]
        out["fields"] = sorted(f) if f else None
        return out

    def encode(self, item: Item) -> Item:
        return {**item, "fields": ",".join(item["fields"]) if item.get("fields") else None}

    def check(self, conn: psycopg.Connection, items: list[Item]) -> list[str]:
        known = {r[0] for r in conn.execute("SELECT collection FROM directus_collections")}
        problems = [
            f"permission {self.label(self.key(i))}: collection {i['collection']!r} does not exist"
            for i in items
            if i.get("collection") not in known and not str(i.get("collection")).startswith("directus_")
        ]
        problems += [
            f"permission {self.label(self.key(i))}: action must be one of {', '.join(self.ACTIONS)}"
            for i in items
            if i.get("action") not in self.ACTIONS
        ]
        return problems


ROLES, POLICIES, ACCESS, PERMISSIONS = Roles(), Policies(), Access(), Permissions()
for _kind in (ROLES, POLICIES, ACCESS, PERMISSIONS):
    _kind.prune_at_boot = True
