"""The checklist of a how-to page as data: its numbered steps, their code blocks and commands.

docs/how-to/add-a-collection.md is followed by tests/integration/test_howto_add_collection.py; the
unit checks in tests/unit/test_docs.py read the same steps (titles, repository paths, commands) so
that a page and its test that disagree fail within seconds.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

STEP = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.M)
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.M | re.S)
REPO_PATH = re.compile(r"`((?:src|tests|db-init|snapshots|extensions|seeds|docs|image)/[^`\s]*)`")
ENV_FROM_STACK = 'eval "$(python -m trm_directus stack env)"'


@dataclass
class Step:
    number: int
    title: str
    text: str
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (language, code without the list's indent)

    def code(self, language: str) -> list[str]:
        return [code for lang, code in self.blocks if lang == language]

    def commands(self) -> list[str]:
        """The lines of its shell blocks, in order, comments and blank lines left out."""
        lines = [line.split("  #")[0].strip() for code in self.code("sh") for line in code.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]

    def paths(self) -> list[str]:
        return REPO_PATH.findall(self.text)


def checklist(path: Path) -> list[Step]:
    """The numbered steps of the page's "## Checklist" section."""
    text = path.read_text()
    assert "## Checklist" in text, f"{path}: no '## Checklist' section"
    section = text.split("## Checklist", 1)[1].split("\n## ", 1)[0]
    found = list(STEP.finditer(section))
    steps = []
    for i, m in enumerate(found):
        body = section[m.start() : found[i + 1].start() if i + 1 < len(found) else len(section)]
        blocks = [(lang, textwrap.dedent(code)) for _indent, lang, code in FENCE.findall(body)]
        steps.append(Step(int(m.group(1)), m.group(2).rstrip("."), body, blocks))
    assert [s.number for s in steps] == list(range(1, len(steps) + 1)), f"{path}: steps are not numbered 1, 2, 3, …"
    return steps


def missing_paths(repo: Path, step: Step) -> list[str]:
    """Repository paths a step names that do not exist (a `<name>` or `NNN` placeholder: its directory must)."""
    missing = []
    for p in step.paths():
        if "*" in p:
            ok = bool(list(repo.glob(p)))
        elif "<" in p or "NNN" in p:
            ok = (repo / p).parent.is_dir()
        else:
            ok = (repo / p).exists()
        if not ok:
            missing.append(p)
    return missing


def cli_argv(command: str) -> list[str] | None:
    """`python -m trm_directus ARGS` (also inside the stack-env eval) → ARGS; None for other commands."""
    if command == ENV_FROM_STACK:
        return ["stack", "env"]
    words = shlex.split(command)
    return words[3:] if words[:3] == ["python", "-m", "trm_directus"] else None
