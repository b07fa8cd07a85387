"""A small, safe XML reader (stdlib expat) that keeps each element's source line.

Defused like defusedxml: a document type declaration (where entity expansion attacks live) and
external entities are refused outright — GPX needs neither. Namespaced names are kept as
(namespace URI, local name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat


class XmlRefused(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass
class Node:
    ns: str
    tag: str
    line: int
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def all(self, ns: str | None, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag and (ns is None or c.ns == ns)]

    def first(self, ns: str | None, tag: str) -> Node | None:
        found = self.all(ns, tag)
        return found[0] if found else None

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()


def _split(name: str) -> tuple[str, str]:
    ns, sep, local = name.rpartition(" ")
    return (ns, local) if sep else ("", name)


def parse(data: bytes) -> Node:
    """The document's root element; raises XmlRefused(line, reason) for malformed or unsafe XML."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    root: list[Node] = []
    texts: list[list[str]] = []

    def refuse(reason: str):
        def handler(*_args):
            raise XmlRefused(parser.CurrentLineNumber, reason)

        return handler

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, tag = _split(name)
        node = Node(ns, tag, parser.CurrentLineNumber, {_split(k)[1]: v for k, v in attrs.items()})
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        texts.append([])

    def end(_name: str) -> None:
        node = stack.pop()
        node.text = "".join(texts.pop()).strip()

    def chars(data: str) -> None:
        if texts:
            texts[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse("a document type declaration (DOCTYPE) is not allowed in GPX")
    parser.EntityDeclHandler = refuse("entity declarations are not allowed")
    parser.ExternalEntityRefHandler = refuse("external entities are not allowed")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlRefused(exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}") from None
    if not root:
        raise XmlRefused(1, "no root element")
    return root[0]
