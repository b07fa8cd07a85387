"""The one YAML loader of the toolchain: strict (duplicate keys, alias and depth budgets), with line numbers.

Every YAML file the toolchain reads (seeds, schema snapshots, and the rules/access files to come)
goes through `load` or `read`:
- a key repeated in one mapping is an error naming both lines (PyYAML silently keeps the last);
- at most MAX_ALIASES aliases, and the document expanded through its aliases may hold at most
  MAX_EXPANDED_NODES nodes: a "billion laughs" file is refused before anything walks it;
- nesting deeper than MAX_DEPTH is refused (PyYAML would die with a RecursionError);
- a file must be a regular file (not a FIFO or device) and UTF-8.
Errors are raised as the caller's error class (SeedError, SnapshotError, …) with `file:line: reason`.

Speed: libyaml (PyYAML's C parser) reads a document about ten times faster than the pure-Python
one (schema.yaml: 0.2 s instead of 2.4 s at a load of 4; every boot, pin check and drift gate
reads it). Its composer recurses once per nesting level in C, where no Python recursion limit
applies, so it is used only when the text bounds the nesting well below what that stack holds
(FAST_NESTING_BOUND: openers `[`/`{` plus the longest line); the same checks then run on the composed
tree (aliases, depth, expansion, duplicate keys with their lines). Anything else takes the
pure-Python loader, whose checks run while it composes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import TrmError

MAX_ALIASES = 100
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
FAST_NESTING_BOUND = 5_000

Lines = dict[tuple[str | int, ...], int]


class _Refused(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _NoDuplicateKeys:
    """Construction that refuses a key repeated in one mapping, naming both lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` merges; keys it brings in may be overridden on purpose
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: SafeConstructor reports it with its own message
            line = key_node.start_mark.line + 1
            if first is not None:
                raise _Refused(line, f"duplicate key {key!r} (first at line {first})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _FastLoader(_NoDuplicateKeys, yaml.CSafeLoader):
    """libyaml's parser and composer; aliases and depth are checked on the composed tree (_check_tree)."""


class _StrictLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """SafeLoader that counts aliases and depth while composing and refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(line, f"more than {MAX_ALIASES} aliases (*name): refused, the file could expand without bound")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(self.peek_event().start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_tree(root: yaml.Node) -> int:
    """What _StrictLoader checks while composing, on a tree libyaml composed: depth, and aliases (shared
    nodes); the node count when there is no alias (then it is also the expanded size), else -1."""
    seen: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(
                    node.start_mark.line + 1,
                    f"more than {MAX_ALIASES} aliases (*name): refused, the file could expand without bound",
                )
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _Refused(node.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
        stack += [(c, depth + 1) for c in reversed(_children(node))]
    return -1 if aliases else len(seen)


def _fast(text: str) -> bool:
    """Whether libyaml may compose it: nesting bounded by the openers and the longest line (see the module doc)."""
    longest = max((len(line) for line in text.splitlines()), default=0)
    return text.count("[") + text.count("{") + longest <= FAST_NESTING_BOUND


def _expanded_size(root: yaml.Node) -> int:
    """Node count with every alias expanded (aliases share node objects), computed without expanding."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: an alias back to one of them is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done or not children:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_EXPANDED_NODES + 1)
            continue
        if id(node) in open_nodes:
            raise _Refused(node.start_mark.line + 1, "an alias refers to a node that contains it (recursive alias)")
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise _Refused(child.start_mark.line + 1, "an alias refers to a node that contains it (recursive alias)")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _line_map(root: yaml.Node) -> Lines:
    """Path in the document -> 1-based line (keys by their own line), for `file:line: path: reason`."""
    lines: Lines = {}
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, key.value) if isinstance(key, yaml.ScalarNode) else (*path, "?")
                lines[sub] = key.start_mark.line + 1
                stack.append((value, sub))
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*path, i)) for i, item in enumerate(node.value)]
    return lines


def load_with_lines(text: str, origin: str, *, error: type[TrmError] = TrmError, hint: str = "fix the file") -> tuple[Any, Lines]:
    """Parse one YAML document strictly; returns (data, path -> line). Raises `error` with `origin:line: reason`."""
    return _parse(text, origin, error, hint, with_lines=True)


def load(text: str, origin: str, *, error: type[TrmError] = TrmError, hint: str = "fix the file") -> Any:
    return _parse(text, origin, error, hint, with_lines=False)[0]


def _parse(
    text: str, origin: str, error: type[TrmError], hint: str, *, with_lines: bool, fast: bool | None = None
) -> tuple[Any, Lines]:
    fast = _fast(text) if fast is None else fast
    loader: yaml.SafeLoader | yaml.CSafeLoader = _FastLoader(text) if fast else _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        counted = -1
        if fast:
            try:
                counted = _check_tree(node)
            except _Refused:  # the pure-Python loader says where exactly (the alias's own line, not its anchor's)
                return _parse(text, origin, error, hint, with_lines=with_lines, fast=False)
        size = counted if counted >= 0 else _expanded_size(node)
        if size > MAX_EXPANDED_NODES:
            raise _Refused(1, f"its aliases expand to more than {MAX_EXPANDED_NODES:,} nodes: refused (billion laughs?)")
        return loader.construct_document(node), (_line_map(node) if with_lines else {})
    except _Refused as exc:
        raise error(f"{origin}:{exc.line}: {exc.reason}", hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        raise error(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})", hint) from None
    except RecursionError:
        raise error(f"{origin}: nested too deeply to read", hint) from None
    finally:
        loader.dispose()


def read_text(path: Path, *, error: type[TrmError] = TrmError, hint: str = "fix the file") -> str:
    """A regular UTF-8 file's text (BOM stripped); a FIFO, device, directory or binary file is an error, not a hang."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"{path} does not exist", hint) from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})", hint) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: not a regular file ({_kind(info.st_mode)})", hint)
        raise error(f"{path}: {info.st_size} bytes is larger than the {MAX_FILE_BYTES} bytes a data file may hold", hint)
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at line {line}, offset {exc.start})", hint) from None


def read(path: Path, *, error: type[TrmError] = TrmError, hint: str = "fix the file") -> Any:
    return load(read_text(path, error=error, hint=hint), str(path), error=error, hint=hint)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"
