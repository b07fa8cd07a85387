"""docs/how-to/add-a-collection.md, followed step by step on a scratch collection.

The steps, their code and their commands are read from the page (tests/howto.py); STEPS below says
what this test does for each, in the page's order, and a page whose steps differ fails here and in
tests/unit/test_docs.py. The edits go to a copy of the repository (the real files are never
touched), the commands run as the page writes them — `python -m trm_directus …` from the copy's own
code, aimed at this module's stack as its dev stack (TRM_STATE_DIR) — and each step checks what the
page promises: the snapshot gains exactly the collection, the access file exactly its rules, real
users see their own organisation's rows, the SQL holds, the layout is captured, the isolation tests
and the docs pick the collection up, and the checks the page names fail before and pass after.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import REPO
from tests.howto import checklist, cli_argv
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError
from trm_directus.schema import diff as diffs
from trm_directus.schema import normalize

pytestmark = [pytest.mark.integration, pytest.mark.directus]  # its own stack: the schema changes

HOWTO = REPO / "docs" / "how-to" / "add-a-collection.md"
NAME = "scratch_notes"
COPIED = ("src", "snapshots", "db-init", "seeds", "image", "tests", "docs", "extensions/trm-integrity/src", "pyproject.toml")
# The unit checks the steps make pass (and that fail before them): what `nox -s unit` would say about the copy.
CHECKS = ["tests/unit/test_access_file.py", "tests/unit/test_docs.py::test_every_collection_of_the_schema_is_in_the_data_model"]
NOT_RUN = {
    "python -m trm_directus extensions build": "rebuilds the integrity hook (about a minute): checked instead that the "
    "hook not yet rebuilt refuses a non-admin create as step 3 says",
    "python3 -m nox -s unit": f"the whole unit suite: the copy runs {', '.join(CHECKS)}",
    "pytest tests/integration/test_model_builder.py tests/integration/test_access_matrix.py tests/security -q": "boots "
    "stacks of their own for minutes: the copy's matrix and world are checked by import (step 7)",
    "python3 -m nox -s drift": "a boot from an empty database (about a minute): the snapshot diff of step 2 is exact",
}


class Copy:
    """The repository copy the steps edit, and the commands of the page run from it against `stack`."""

    def __init__(self, root: Path, stack) -> None:
        self.root = root
        for part in COPIED:
            src, dst = REPO / part, root / part
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules", "dist"))
            else:
                shutil.copy2(src, dst)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DIRECTUS_", "TRM_STATE", "TRM_REPO"))}
        self.env.update(PYTHONPATH=f"{root / 'src'}{os.pathsep}{root}", TRM_REPO_ROOT=str(root))
        self.env["TRM_STATE_DIR"] = str(stack.state_dir)  # the stack is this copy's dev stack

    def run(self, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=240)
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (done.returncode == 0) == ok, f"{' '.join(argv)} exited {done.returncode}:\n{output}"
        return done

    def python(self, code: str) -> dict:
        return json.loads(self.run(sys.executable, "-c", code).stdout.strip().splitlines()[-1])

    def commands(self, step) -> None:
        """Run the step's commands as the page writes them (the stack-env eval sets this environment)."""
        for command in step.commands():
            if command in NOT_RUN:
                print(f"    not run: {command}: {NOT_RUN[command]}")
                continue
            argv = cli_argv(command)
            assert argv is not None, f"step {step.number}: this test neither runs nor explains `{command}`"
            done = self.run(sys.executable, "-m", "trm_directus", *argv)
            print(f"    ran: {command}")
            if argv == ["stack", "env"]:
                for line in done.stdout.splitlines():
                    key, _, value = line.removeprefix("export ").partition("=")
                    self.env[key] = value.strip("'")

    def edit(self, rel: str, text: str, *, before: str | None = None) -> None:
        path = self.root / rel
        old = path.read_text()
        if before is None:
            path.write_text(old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
            return
        assert old.count(before) == 1, f"{rel}: the anchor {before.strip()!r} this test inserts before is gone or not unique"
        path.write_text(old.replace(before, text.rstrip("\n") + "\n" + before))

    def checks(self, ok: bool) -> str:
        done = self.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS, ok=ok)
        return done.stdout


class World:
    """Two organisations with an event and a note each, and an org-admin of the first who logs in."""

    def __init__(self, stack) -> None:
        self.url, self.api = stack.url, Directus(stack.url, stack.info.admin_token)
        tag = uuid.uuid4().hex[:8]
        orgs, self.events, self.notes = [], [], []
        for side in ("a", "b"):
            org = self.api.post("/items/organizations", {"name": f"Howto {side} {tag}", "slug": f"howto-{side}-{tag}"})["id"]
            dates = {"starts_at": "2026-10-01T08:00:00Z", "ends_at": "2026-10-02T18:00:00Z"}
            body = {"name": "Howto Rally", "slug": f"howto-{tag}", "discipline": "rally", "organization_id": org, **dates}
            event = self.api.post("/items/events", body)
            orgs.append(org)
            self.events.append(event["id"])
            self.notes.append(self.api.post(f"/items/{NAME}", {"event_id": event["id"], "title": f"note {side}"})["id"])
        [member] = self.api.get("/roles", filter={"name": {"_eq": "Member"}}, fields="id")
        self.email, self.password = f"howto-{tag}@example.com", f"howto-{tag}-Pa55!"
        user = self.api.post("/users", {"email": self.email, "password": self.password, "role": member["id"], "status": "active"})
        self.api.post("/items/organization_users", {"organization_id": orgs[0], "user_id": user["id"], "role": "org-admin"})

    def as_admin_of_a(self, method: str, path: str, body=None) -> tuple[int, object]:
        try:
            return 200, Directus.login(self.url, self.email, self.password).request(method, path, body)
        except DirectusError as e:
            return e.status, e.body

    def count(self) -> int:
        return len(self.api.get(f"/items/{NAME}", fields="id", limit=-1))


def model(c: Copy, step, ctx: dict) -> None:
    [module] = re.findall(r"\(here\s+`([^`]+)`\)", step.text)  # the domain module the page adds to
    c.edit(module, "\n".join(step.code("python")))
    names = c.python("import json; from trm_directus.model import registry; print(json.dumps(registry.collection_names()))")
    assert NAME in names


def schema_snapshot(c: Copy, step, ctx: dict) -> None:
    c.commands(step)
    new = yaml.safe_load((c.root / "snapshots" / "schema.yaml").read_text())
    d = diffs.compute(yaml.safe_load((REPO / "snapshots" / "schema.yaml").read_text()), new, normalise=normalize.normalise)
    assert {ch.action for ch in d.changes} == {"create"}, d.render_text()  # nothing else changed
    fields = {f"{NAME}.{f}" for f in ("id", "title", "body", "event_id")}
    assert {ch.name for ch in d.changes} == {NAME, *fields, f"events.{NAME}"}, d.render_text()
    out = c.checks(ok=False)  # the checks of steps 3, 4 and 9 fail now: no scope, no rules, no row in the docs
    failed = {line.split("::")[-1].split(" ")[0] for line in out.splitlines() if line.startswith("FAILED ")}
    assert failed == {
        "test_the_hook_and_the_access_file_take_the_organisation_from_the_same_table",
        "test_every_collection_has_access_rules_for_the_org_roles",
        "test_every_collection_of_the_schema_is_in_the_data_model",
    }, out
    assert f"nobody but an administrator can read: ['{NAME}']" in out and f"data-model.md: ['{NAME}']" in out, out


def organisation(c: Copy, step, ctx: dict) -> None:
    rel = "extensions/trm-integrity/src/org-scope.json"
    scope = json.loads((c.root / rel).read_text())
    scope["paths"].update(json.loads("{" + step.code("json")[0] + "}"))
    (c.root / rel).write_text(json.dumps(scope, indent=2) + "\n")
    c.commands(step)
    path = c.python(f"import json; from trm_directus.artifacts import access_table as t; print(json.dumps(t.ORG_PATH['{NAME}']))")
    assert path == ["event_id", "organization_id"]


def access_rules(c: Copy, step, ctx: dict) -> None:
    rules = textwrap_indent(step.code("python")[0], 4)
    c.edit("src/trm_directus/artifacts/access_table.py", rules, before="    return t.items\n")
    world = ctx["world"] = World(ctx["stack"])
    assert world.as_admin_of_a("GET", f"/items/{NAME}")[0] == 403  # no rules yet: no policy of the user reads it
    c.commands(step)
    committed, new = (yaml.safe_load((root / "snapshots" / "access.yaml").read_text()) for root in (REPO, c.root))
    assert {k: v for k, v in new.items() if k != "permissions"} == {k: v for k, v in committed.items() if k != "permissions"}
    added = [p for p in new["permissions"] if p not in committed["permissions"]]
    assert [p for p in committed["permissions"] if p not in new["permissions"]] == []
    rights = {(p["policy"], p["action"]) for p in added}
    assert rights == {("org-admin", a) for a in ("create", "read", "update", "delete")} | {("race-director", "read")}
    assert all(p["collection"] == NAME and (p["permissions"] is None or "event_id" in p["permissions"]) for p in added)
    # "Directus caches permissions": the rules are in the database, the running Directus still answers from its cache
    assert world.as_admin_of_a("GET", f"/items/{NAME}")[0] == 403
    world.api.request("POST", "/utils/cache/clear", params={"system": "true"})  # "once its cache is cleared"
    status, rows = world.as_admin_of_a("GET", f"/items/{NAME}")
    assert status == 200 and [r["id"] for r in rows] == world.notes[:1]  # their organisation's note, not the other's
    before = world.count()
    status, body = world.as_admin_of_a("POST", f"/items/{NAME}", {"event_id": world.events[0], "title": "by the org admin"})
    assert status == 403 and f"{NAME} belongs to no organisation in org-scope.json" in str(body), body  # step 3's promise
    assert world.count() == before


def sql(c: Copy, step, ctx: dict) -> None:
    names = [p.name for p in [*(c.root / "db-init").glob("[0-9]*.sql"), *(c.root / "db-init" / "post").glob("[0-9]*.sql")]]
    number = f"{max(int(n[:3]) for n in names) + 1:03d}"
    file = f"{number}_{NAME}.sql"
    (c.root / "db-init" / "post" / file).write_text(step.code("sql")[0].replace("NNN", number))
    c.commands(step)
    with psycopg.connect(ctx["stack"].info.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM trm_db_init.ledger WHERE file_name = %s", (file,)).fetchone() == (1,)
    world = ctx["world"]
    before = world.count()
    with pytest.raises(DirectusError) as refused:
        world.api.post(f"/items/{NAME}", {"event_id": world.events[0], "title": "note a"})
    assert refused.value.status == 400 and "RECORD_NOT_UNIQUE" in refused.value.body and world.count() == before


def list_layout(c: Copy, step, ctx: dict) -> None:
    query = {"tabular": {"fields": ["title", "event_id"], "sort": ["title"], "limit": 100}}
    preset = {"collection": NAME, "user": None, "role": None, "bookmark": None, "layout": "tabular", "layout_query": query}
    ctx["world"].api.post("/presets", preset)  # what the admin UI's Bookmarks settings save
    c.commands(step)
    committed, new = (yaml.safe_load((root / "snapshots" / "ui.yaml").read_text()) for root in (REPO, c.root))
    assert [p for p in new["presets"] if p["collection"] != NAME] == committed["presets"]
    [ours] = [p for p in new["presets"] if p["collection"] == NAME]
    assert ours["layout_query"] == query and {k: v for k, v in new.items() if k != "presets"} == {
        k: v for k, v in committed.items() if k != "presets"
    }


def isolation_tests(c: Copy, step, ctx: dict) -> None:
    matrix, payload, creatable = step.code("python")
    c.edit("tests/integration/test_access_matrix.py", matrix)
    last = '        raise AssertionError(f"no payload for {c}")\n'
    c.edit("tests/integration/access_world.py", textwrap_indent(payload, 8), before=last)
    c.edit("tests/integration/access_world.py", creatable)
    seen = c.python(
        "import json, yaml\n"
        "from tests.integration import test_access_matrix as m, access_world as w\n"
        "schema = yaml.safe_load(open('snapshots/schema.yaml'))\n"
        "cols = sorted(c['collection'] for c in schema['collections'] if c.get('schema'))\n"
        "o = w.Org(*['x'] * 12)\n"
        f"print(json.dumps({{'matrix': sorted(m.COLLECTIONS), 'schema': cols, 'spec': {{r: s.get('{NAME}', '') for r, s in "
        f"m.SPEC.items()}}, 'update': '{NAME}' in m.UPDATE, 'payload': w.World(None, '').payload('{NAME}', o), "
        f"'creatable': '{NAME}' in w.CREATABLE}}))"
    )
    assert seen["matrix"] == seen["schema"], "the matrix's COLLECTIONS must be every collection of the schema"
    access = yaml.safe_load((c.root / "snapshots" / "access.yaml").read_text())["permissions"]
    for role, letters in seen["spec"].items():  # the matrix's own statement agrees with the rendered rules
        assert set(letters) == {p["action"][0] for p in access if p["collection"] == NAME and p["policy"] == role}, role
    assert seen["update"] and seen["creatable"] and seen["payload"]["event_id"] == "x"


def seed_data(c: Copy, step, ctx: dict) -> None:
    c.commands(step)  # each must exit 0


def docs(c: Copy, step, ctx: dict) -> None:
    c.edit("docs/reference/data-model.md", step.code("markdown")[0], before="| — | `directus_users`")


def check(c: Copy, step, ctx: dict) -> None:
    c.commands(step)
    assert "passed" in c.checks(ok=True)


def textwrap_indent(code: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in code.splitlines(keepends=True))


# The page's steps, in its order: what this test does for each.
STEPS = {
    "Model": model,
    "Schema snapshot": schema_snapshot,
    "Organisation": organisation,
    "Access rules": access_rules,
    "SQL Directus cannot express": sql,
    "List layout": list_layout,
    "Isolation tests": isolation_tests,
    "Seed data": seed_data,
    "Docs": docs,
    "Check": check,
}


def test_following_the_howto_adds_a_collection(stack, tmp_path):
    steps = checklist(HOWTO)
    assert [s.title for s in steps] == list(STEPS), "the how-to's steps and this test's differ: change both together"
    copy = Copy(tmp_path / "repo", stack)
    ctx: dict = {"stack": stack}
    t0 = time.monotonic()
    for s in steps:
        t = time.monotonic()
        print(f"\nstep {s.number}. {s.title}")
        STEPS[s.title](copy, s, ctx)
        print(f"  step {s.number} done in {time.monotonic() - t:.1f} s")
    print(f"the how-to followed in {time.monotonic() - t0:.1f} s")
