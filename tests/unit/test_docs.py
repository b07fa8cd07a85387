"""The documentation stays true: short README, links that resolve, every setting, command and collection listed.

README.md at most 120 lines; every relative link in README.md and docs/ (and the other *.md) points at
a file that exists, and at a heading that exists when it names one; every environment variable the
code names is in docs/reference/settings.md; every command, option, nox session and invoke task is
in docs/reference/cli.md; every collection is in docs/reference/data-model.md; the add-a-collection
how-to and the test that follows it list the same steps, and its paths and commands are real.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.howto import checklist, cli_argv, missing_paths
from tests.integration.test_howto_add_collection import HOWTO, NOT_RUN, STEPS
from trm_directus import cli

DOCS = REPO / "docs"
PAGES = sorted(
    [REPO / "README.md", *DOCS.rglob("*.md"), *(REPO / d / "README.md" for d in ("db-init", "snapshots", "extensions"))]
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^ *```.*?^ *```", re.M | re.S)
# Upper-case names that are not settings: SQL, file and sysconf names, lock key texts (src/); bash's clock
# (entrypoint.sh); PYTHONPATH, which stacks set for the boot steps of another checkout, never read.
NOT_SETTINGS = {"CURRENT_TIMESTAMP", "PG_VERSION", "SC_CLK_TCK", "TRM_ART0", "TRM_BOOT", "TRM_DBI0", "USER_FIELDS"}
NOT_SETTINGS |= {"EPOCHREALTIME", "PYTHONPATH"}
# Options every command that talks to Directus shares: described once, at the top of docs/reference/cli.md.
SHARED_OPTIONS = {"--against", "--url", "--token", "--token-file"}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in FENCED.sub("", page.read_text()).splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_readme_is_short():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 120, f"README.md has {len(lines)} lines: move the detail into docs/ (at most 120)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    text = re.sub(r"`[^`\n]*`", "", FENCED.sub("", page.read_text()))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked here
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or (REPO not in dest.parents and dest != REPO):
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert broken == [], f"{page.relative_to(REPO)}: {broken}"


def named_settings() -> set[str]:
    names = set()
    for f in (REPO / "src" / "trm_directus").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", str(node.value)):
                names.add(node.value)
        names |= set(re.findall(r"(?:environ|env)(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']", f.read_text()))
    shells = ["image/entrypoint.sh", "image/compose.yaml", "image/haproxy.cfg", ".ci/run", ".ci/prereqs", ".ci/timescaledb"]
    for rel in shells:
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (REPO / rel).read_text()))
    return names - NOT_SETTINGS


def test_every_environment_variable_is_in_the_settings_table():
    page = (DOCS / "reference" / "settings.md").read_text()
    missing = sorted(n for n in named_settings() if f"`{n}`" not in page)
    assert missing == [], f"environment variables not in docs/reference/settings.md: {missing}"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_and_option_is_in_the_cli_reference():
    page = (DOCS / "reference" / "cli.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    missing = []
    for name, parser in subcommands(cli.build_parser()).items():
        verbs = subcommands(parser) if name == "stack" else {"": parser}
        for verb, p in verbs.items():
            command = f"{name} {verb}".strip()
            mine = [r for r in rows if re.search(rf"`{re.escape(command)}(?=[\s`])", r.split(" | ")[0])]
            if not mine:
                missing.append(command)
                continue
            options = {o for a in p._actions for o in a.option_strings if o.startswith("--")} - SHARED_OPTIONS - {"--help"}
            missing += [f"{command} {o}" for o in sorted(options) if not any(o in r for r in mine)]
    missing += [o for o in sorted(SHARED_OPTIONS) if f"`{o}" not in page.split("## Commands")[0]]
    assert missing == [], f"not in docs/reference/cli.md: {missing}"


def decorated(path: Path, decorator: str) -> list[str]:
    """Functions of a module decorated with `decorator` (or a call of it): their `name=` or their own name."""
    names = []
    for node in ast.parse(path.read_text()).body:
        for d in getattr(node, "decorator_list", []):
            call = d if isinstance(d, ast.Call) else None
            if ast.unparse(call.func if call else d) == decorator:
                given = [k.value.value for k in (call.keywords if call else []) if k.arg == "name"]
                names.append(given[0] if given else node.name.replace("_", "-"))
    return names


def test_every_nox_session_and_invoke_task_is_in_the_cli_reference():
    page = (DOCS / "reference" / "cli.md").read_text()
    sessions, tasks = decorated(REPO / "noxfile.py", "nox.session"), decorated(REPO / "tasks.py", "task")
    assert len(sessions) >= 10 and len(tasks) >= 20
    missing = [f"nox -s {s}" for s in sessions if f"`nox -s {s}`" not in page]
    missing += [f"inv {t}" for t in tasks if f"`{t}`" not in page]
    assert missing == [], f"not in docs/reference/cli.md: {missing}"


def test_every_collection_of_the_schema_is_in_the_data_model():
    schema = yaml.safe_load((REPO / "snapshots" / "schema.yaml").read_text())
    page = (DOCS / "reference" / "data-model.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    missing = sorted(
        c["collection"] for c in schema["collections"] if c.get("schema") and not any(f"`{c['collection']}`" in r for r in rows)
    )
    assert missing == [], f"collections of snapshots/schema.yaml not in docs/reference/data-model.md: {missing}"


def test_the_add_a_collection_howto_and_its_test_agree():
    """The page's steps are the test's (in order), the paths it names exist, and every command it gives is
    one the test runs (a valid `python -m trm_directus` command line) or one it explains not running."""
    steps = checklist(HOWTO)
    assert [s.title for s in steps] == list(STEPS), "docs/how-to/add-a-collection.md and its test list different steps"
    assert {p: missing_paths(REPO, s) for s in steps for p in [s.title] if missing_paths(REPO, s)} == {}
    commands = [c for s in steps for c in s.commands()]
    parser = cli.build_parser()
    for command in commands:
        argv = cli_argv(command)
        if argv is None:
            assert command in NOT_RUN, f"`{command}`: the test neither runs nor explains it"
            words = shlex.split(command)
            if words[:3] == ["python3", "-m", "nox"]:
                assert f"def {words[4]}(" in (REPO / "noxfile.py").read_text(), command
            if words[0] == "pytest":
                assert all((REPO / w).exists() for w in words[1:] if not w.startswith("-")), command
            continue
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"`{command}`: not a valid command line of python -m trm_directus")
    assert set(NOT_RUN) <= set(commands), f"explained but not in the page: {set(NOT_RUN) - set(commands)}"


def test_docs_named_in_code_exist():
    cited = set()
    for f in [*(REPO / "src").rglob("*.py"), *(REPO / "tests").rglob("*.py"), *(REPO / "image").iterdir(), REPO / "noxfile.py"]:
        if f.is_file():
            cited |= set(re.findall(r"\bdocs/[\w./-]+\.md", f.read_text(errors="replace")))
    assert cited and sorted(p for p in cited if not (REPO / p).exists()) == []
