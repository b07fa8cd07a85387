"""The package's import graph and the two rules it keeps: no import cycle (between modules or between
packages) and no import of another package's `_private` name.

Every import counts, also one inside a function: a cycle held together by a deferred import is still
a cycle for whoever reads the code. `python -m trm_directus.import_graph` prints the violations (exit 1)
or the package graph (exit 0); tests/unit/test_import_graph.py runs the same check in `nox -s unit`.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT_PACKAGE = "trm_directus"
SOURCE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Import:
    """One imported module (or name of a module) and where: `importer` line `line`."""

    importer: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path, source: Path = SOURCE) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([ROOT_PACKAGE, *parts])


def modules(source: Path = SOURCE) -> dict[str, Path]:
    return {module_name(p, source): p for p in sorted(source.rglob("*.py")) if "__pycache__" not in p.parts}


def package_of(module: str, known: dict[str, Path]) -> str:
    """The first level below the root: `trm_directus.seed.loader` -> `seed`; a top-level module is its own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(known: dict[str, Path]) -> list[Import]:
    """Every import of a module of this package by a module of this package (functions included)."""
    found: list[Import] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == ROOT_PACKAGE:
                        found.append(Import(name, _nearest(alias.name, known), (), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, is_package)
                if base.split(".")[0] != ROOT_PACKAGE:
                    continue
                plain = tuple(a.name for a in node.names if f"{base}.{a.name}" not in known)
                for alias in node.names:  # `from pkg import module` imports the module
                    if f"{base}.{alias.name}" in known:
                        found.append(Import(name, f"{base}.{alias.name}", (), node.lineno))
                if plain:
                    found.append(Import(name, _nearest(base, known), plain, node.lineno))
    return found


def _nearest(dotted: str, known: dict[str, Path]) -> str:
    while dotted not in known and "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
    return dotted


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (or a node importing itself), sorted."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # iterative Tarjan: no recursion limit on deep graphs
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def violations(source: Path = SOURCE) -> list[str]:
    """What breaks the rules, one line each, with file:line where an import is to blame."""
    known = modules(source)
    found = imports(known)
    problems: list[str] = []
    module_edges = [(i.importer, i.target) for i in found if i.importer != i.target]
    for component in cycles(module_edges):
        problems.append("import cycle between modules: " + " <-> ".join(component) + _where(found, component))
    package_edges = {
        (package_of(i.importer, known), package_of(i.target, known))
        for i in found
        if package_of(i.importer, known) and package_of(i.target, known)
    }
    package_edges = {(a, b) for a, b in package_edges if a != b}
    for component in cycles(package_edges):
        problems.append("import cycle between packages: " + " <-> ".join(component) + _where(found, component, packages=True))
    for i in found:
        if package_of(i.importer, known) == package_of(i.target, known):
            continue
        hidden = [n for n in i.names if _private(n)]
        private_module = [p for p in i.target.split(".")[1:] if _private(p)]
        if hidden or private_module:
            what = ", ".join(hidden) if hidden else i.target
            problems.append(
                f"{_file(known, i.importer)}:{i.line}: imports {what} from {i.target}, a private name of another "
                "package: make it public in its package (no leading underscore) or move the code"
            )
    return problems


def _file(known: dict[str, Path], module: str) -> str:
    try:
        return str(known[module].relative_to(Path.cwd()))
    except ValueError:
        return str(known[module])


def _where(found: list[Import], component: list[str], packages: bool = False) -> str:
    """One shortest cycle through the component, each step with the import that makes it (file:line)."""
    key = (lambda m: m.split(".")[1] if "." in m else "") if packages else (lambda m: m)
    members = set(component)
    first_import: dict[tuple[str, str], Import] = {}
    for i in sorted(found, key=lambda i: (i.importer, i.line)):
        a, b = key(i.importer), key(i.target)
        if a != b and a in members and b in members:
            first_import.setdefault((a, b), i)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    while queue:  # breadth first: the shortest way from start back to start
        node = queue.pop(0)
        for a, b in sorted(first_import):
            if a == node and b not in previous:
                previous[b] = a
                queue.append(b)
        if start in previous:
            break
    path = [start]
    while len(path) == 1 or path[-1] != start:
        path.append(previous[path[-1]])
    path.reverse()
    steps = [first_import[(a, b)] for a, b in itertools.pairwise(path)]
    return "".join(f"\n    {i.importer}:{i.line} imports {i.target}" for i in steps)


def package_graph(source: Path = SOURCE) -> dict[str, set[str]]:
    known = modules(source)
    graph: dict[str, set[str]] = {}
    for i in imports(known):
        a, b = package_of(i.importer, known), package_of(i.target, known)
        if a and b and a != b:
            graph.setdefault(a, set()).add(b)
    return graph


def main() -> int:
    problems = violations()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} import-graph violation(s)", file=sys.stderr)
        return 1
    for package, targets in sorted(package_graph().items()):
        print(f"{package or '(top)'} -> {', '.join(sorted(targets))}")
    print("import graph: no cycle, no private cross-package import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
