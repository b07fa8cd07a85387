"""Split a SQL file into statements, remembering the line each starts on (for error messages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line of the statement's first non-blank character

    def line_of_offset(self, offset: int) -> int:
        """Line number in the file of a 0-based character offset inside this statement."""
        return self.line + self.sql.count("\n", 0, max(0, offset))


def split(text: str) -> list[Statement]:
    """Split on top-level semicolons; quotes, dollar quotes and comments are respected.

    Statements that hold only comments or blanks are dropped.
    """
    out: list[Statement] = []
    i, n = 0, len(text)
    start = 0
    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif c == "'":
            escaped = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            i = _skip_quoted(text, i, "'", backslash=escaped)
        elif c == '"':
            i = _skip_quoted(text, i, '"', backslash=False)
        elif c == "$":
            m = _DOLLAR_TAG.match(text, i)
            if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                tag = m.group(0)
                j = text.find(tag, m.end())
                i = n if j < 0 else j + len(tag)
            else:
                i += 1
        elif c == ";":
            _emit(out, text, start, i)
            i += 1
            start = i
        else:
            i += 1
    _emit(out, text, start, n)
    return out


def _skip_block_comment(text: str, i: int) -> int:
    depth, i, n = 0, i, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_quoted(text: str, i: int, quote: str, *, backslash: bool) -> int:
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _emit(out: list[Statement], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    if not _has_code(chunk):
        return
    lead = len(chunk) - len(chunk.lstrip())
    line = text.count("\n", 0, start + lead) + 1
    out.append(Statement(sql=chunk.strip(), line=line))


def _has_code(chunk: str) -> bool:
    """True when the chunk holds something other than whitespace and comments."""
    i, n = 0, len(chunk)
    while i < n:
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i):
            j = chunk.find("\n", i)
            i = n if j < 0 else j + 1
        elif chunk.startswith("/*", i):
            i = _skip_block_comment(chunk, i)
        else:
            return True
    return False


_TX_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END|SAVEPOINT|RELEASE|ABORT|PREPARE\s+TRANSACTION)\b"
    r"|\bCONCURRENTLY\b",
    re.IGNORECASE,
)


def transaction_control(stmt: Statement) -> str | None:
    """The offending keyword when a statement cannot run inside the runner's transaction.

    Comments are removed first wherever they are (`/* … */ COMMIT`, nested block comments), while
    quoted strings and dollar-quoted bodies are kept as they are: a `/*` inside a string is text.
    """
    body = code_only(stmt.sql).strip()
    if re.match(r"(DO|CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE))\b", body, re.IGNORECASE):
        return None  # BEGIN/END inside function bodies are PL/pgSQL blocks, not transaction control
    m = _TX_CONTROL.search(_without_literals(body))
    return re.sub(r"\s+", " ", m.group(0).strip().upper()) if m else None


def code_only(sql: str) -> str:
    """`sql` with every comment replaced by one space; quotes and dollar quotes untouched."""
    out: list[str] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            out.append(sql[start:i] + " ")
            j = sql.find("\n", i)
            i = start = n if j < 0 else j
        elif c == "/" and sql.startswith("/*", i):
            out.append(sql[start:i] + " ")
            i = start = _skip_block_comment(sql, i)
        else:
            i = _skip_literal(sql, i)
    out.append(sql[start:])
    return "".join(out)


def _without_literals(sql: str) -> str:
    """Comment-free `sql` with string and dollar-quoted contents blanked (keywords inside them are text)."""
    out: list[str] = []
    i, n, start = 0, len(sql), 0
    while i < n:
        j = _skip_literal(sql, i)
        if j > i + 1:
            out.append(sql[start:i] + "''")
            start = j
        i = j
    out.append(sql[start:])
    return "".join(out)


def _skip_literal(text: str, i: int) -> int:
    """Index after the quoted string, quoted identifier or dollar-quoted body starting at i (i + 1 otherwise)."""
    c = text[i]
    if c == "'":
        escaped = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
        return _skip_quoted(text, i, "'", backslash=escaped)
    if c == '"':
        return _skip_quoted(text, i, '"', backslash=False)
    if c == "$":
        m = _DOLLAR_TAG.match(text, i)
        if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
            j = text.find(m.group(0), m.end())
            return len(text) if j < 0 else j + len(m.group(0))
    return i + 1
