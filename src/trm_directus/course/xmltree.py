"""A small, safe XML reader (stdlib expat) that keeps each element's source line.

Defused like defusedxml: a document type declaration (where entity expansion attacks live) and
external entities are refused outright — GPX needs neither. Namespaced names are kept as
(namespace URI, local name).
"""

from __future__ import annotations

from xml.parsers import expat


class XmlRefused(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class Node:
    __slots__ = ("attrs", "children", "line", "ns", "tag", "text")

    def __init__(self, ns: str, tag: str, line: int, attrs: dict[str, str]) -> None:
        self.ns, self.tag, self.line, self.attrs = ns, tag, line, attrs
        self.children: list[Node] = []
        self.text = ""

    def all(self, ns: str | None, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag and (ns is None or c.ns == ns)]

    def first(self, ns: str | None, tag: str) -> Node | None:
        found = self.all(ns, tag)
        return found[0] if found else None


class Document:
    """The root element and, per namespace used by an element, the line of its first use."""

    def __init__(self, root: Node, namespaces: dict[str, int]) -> None:
        self.root = root
        self.namespaces = namespaces


def _split(name: str) -> tuple[str, str]:
    ns, sep, local = name.rpartition(" ")
    return (ns, local) if sep else ("", name)


def parse(data: bytes) -> Document:
    """The parsed document; raises XmlRefused(line, reason) for malformed or unsafe XML."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    stack: list[Node] = []
    root: list[Node] = []
    buf: list[str] = []  # character data of the open elements; marks[i] = where element i's text starts
    marks: list[int] = []
    names: dict[str, tuple[str, str]] = {}  # expat name -> (namespace, local name), computed once per name
    namespaces: dict[str, int] = {}

    def refuse(reason: str):
        def handler(*_args):
            raise XmlRefused(parser.CurrentLineNumber, reason)

        return handler

    def start(name: str, attrs: dict[str, str]) -> None:
        split = names.get(name)
        if split is None:
            split = names[name] = _split(name)
            namespaces.setdefault(split[0], parser.CurrentLineNumber)
        if attrs and " " in "".join(attrs):  # namespaced attributes: keep the local name
            attrs = {_split(k)[1]: v for k, v in attrs.items()}
        node = Node(split[0], split[1], parser.CurrentLineNumber, attrs)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)
        marks.append(len(buf))

    def end(_name: str) -> None:
        node = stack.pop()
        i = marks.pop()
        if len(buf) > i:
            node.text = "".join(buf[i:]).strip()
            del buf[i:]

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = buf.append
    parser.StartDoctypeDeclHandler = refuse("a document type declaration (DOCTYPE) is not allowed in GPX")
    parser.EntityDeclHandler = refuse("entity declarations are not allowed")
    parser.ExternalEntityRefHandler = refuse("external entities are not allowed")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlRefused(exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}") from None
    if not root:
        raise XmlRefused(1, "no root element")
    return Document(root[0], namespaces)
