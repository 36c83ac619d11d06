"""Where a statement ends, for a shell that reads SQL line by line.

A line ending in ``;`` does not end a statement when the ``;`` is inside a string
(``SELECT 'semi;``), a quoted identifier, a dollar-quoted body or a comment. DuckDB's own
``extract_statements`` splits complete text, but it cannot say whether text is *finished*:
an unclosed quote is an error to it, while to a shell it means "read another line". So this
small lexer tracks exactly the states in which a ``;`` is not a terminator.
"""
from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_complete(text: str) -> tuple[list[str], str]:
    """The complete statements in ``text`` (each with its ``;``, whitespace-trimmed), and the
    unfinished rest, which may be empty."""
    statements: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == ";":
            statement = text[start:i + 1].strip()
            if statement != ";":
                statements.append(statement)
            start = i + 1
            i += 1
        elif c in "'\"":
            escapes = c == "'" and i > 0 and text[i - 1] in "eE" and not _word_char(text, i - 2)
            i = _skip_quoted(text, i, c, escapes)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "$" and (m := _DOLLAR_TAG.match(text, i)) and not _word_char(text, i - 1):
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        else:
            i += 1
    return statements, text[start:].strip() if _unfinished(text[start:]) else ""


def is_complete(text: str) -> bool:
    """Whether ``text`` holds no unfinished statement (so a shell can run it)."""
    return split_complete(text)[1] == ""


def _skip_quoted(text: str, i: int, quote: str, escapes: bool) -> int:
    """Index just past the quoted run opening at ``i`` (``len(text)`` if it never closes).
    A doubled quote is a literal quote; in E'...' a backslash escapes the next character."""
    j = i + 1
    while j < len(text):
        if escapes and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            if j + 1 < len(text) and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(text)


def _word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


def _unfinished(rest: str) -> bool:
    """Whether the text after the last ``;`` holds anything but whitespace and comments."""
    i, n = 0, len(rest)
    while i < n:
        if rest[i].isspace():
            i += 1
        elif rest.startswith("--", i):
            end = rest.find("\n", i)
            i = n if end < 0 else end + 1
        elif rest.startswith("/*", i):
            end = rest.find("*/", i + 2)
            if end < 0:
                return True
            i = end + 2
        else:
            return True
    return False
