"""Where a statement ends, for a shell that reads SQL line by line.

A line ending in ``;`` does not end a statement when the ``;`` is inside a string
(``SELECT 'semi;``), a quoted identifier, a dollar-quoted body or a comment. DuckDB's own
``extract_statements`` splits complete text, but it cannot say whether text is *finished*:
an unclosed quote is an error to it, while to a shell it means "read another line". So this
small lexer tracks exactly the states in which a ``;`` is not a terminator.

It is incremental: each line is scanned once, with the state carried to the next line, so a
script whose one INSERT spans 100,000 lines is read in linear time.
"""
from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


class StatementSplitter:
    """Feed lines; get back each statement as it completes (with its ``;``, trimmed)."""

    def __init__(self) -> None:
        self._parts: list[str] = []    # the unfinished statement's text, piece by piece
        self._closer = ""              # inside a comment or $$ body: the text that ends it
        self._quote = ""               # inside '...' or "...": the quote character
        self._escapes = False          # inside E'...': a backslash escapes the next character

    def feed(self, line: str) -> list[str]:
        piece = line + "\n"
        done: list[str] = []
        i, start, n = 0, 0, len(piece)
        while i < n:
            if self._quote or self._closer:
                i = self._leave(piece, i)
                continue
            c = piece[i]
            if c == ";":
                self._parts.append(piece[start:i + 1])
                statement = "".join(self._parts).strip()
                self._parts = []
                if statement != ";":
                    done.append(statement)
                start = i = i + 1
            elif c in "'\"":
                self._quote = c
                self._escapes = (c == "'" and i > 0 and piece[i - 1] in "eE"
                                 and not _word_char(piece, i - 2))
                i += 1
            elif piece.startswith("--", i):
                self._closer, i = "\n", i + 2
            elif piece.startswith("/*", i):
                self._closer, i = "*/", i + 2
            elif c == "$" and (m := _DOLLAR_TAG.match(piece, i)) and not _word_char(piece, i - 1):
                self._closer, i = m.group(0), m.end()
            else:
                i += 1
        self._parts.append(piece[start:])
        return done

    def _leave(self, piece: str, i: int) -> int:
        """Index just past the end of the open quote or comment, or the piece's end."""
        if self._closer:
            end = piece.find(self._closer, i)
            if end < 0:
                return len(piece)
            closer, self._closer = self._closer, ""
            return end + len(closer)
        j = i
        while j < len(piece):
            if self._escapes and piece[j] == "\\":
                j += 2
            elif piece[j] == self._quote:
                if j + 1 < len(piece) and piece[j + 1] == self._quote:   # '' is a quote
                    j += 2
                    continue
                self._quote = ""
                return j + 1
            else:
                j += 1
        return len(piece)

    def rest(self) -> str:
        """The unfinished statement, or "" if only whitespace and comments are left."""
        text = "".join(self._parts)
        return text.strip() if _unfinished(text) else ""

    def reset(self) -> None:
        self.__init__()


def split_complete(text: str) -> tuple[list[str], str]:
    """The complete statements in ``text`` (each with its ``;``, whitespace-trimmed), and the
    unfinished rest, which may be empty."""
    splitter = StatementSplitter()
    statements = [s for line in text.split("\n") for s in splitter.feed(line)]
    return statements, splitter.rest()


def is_complete(text: str) -> bool:
    """Whether ``text`` holds no unfinished statement (so a shell can run it)."""
    return split_complete(text)[1] == ""


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
