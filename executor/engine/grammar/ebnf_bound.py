"""The longest document a grammar admits, in bytes, read off the EBNF text the engine compiles.

Why: every token the engine samples or appends under a grammar emits at least one byte (the
library never allows a token that emits none, and the stop token ends the document), so a
grammar whose documents are at most N bytes long finishes within N tokens. A caller that sets
``max_tokens`` to this bound can never see an answer cut short; one that cannot get a bound
(a string or list without a length, a recursive schema) knows it.

The analysis is exact over the grammar's structure: a literal counts its UTF-8 bytes, a
character class its widest character (4 bytes for a negated class: any character outside it),
a sequence the sum, an alternation the widest branch, ``{m, n}`` n times its element, and ``*``,
``+``, ``{m, -1}`` or a rule that reaches itself make the document unbounded. A ``Regex(...)``
element (xgrammar keeps some ``pattern`` strings as regexes) is measured on Python's parse of
the pattern, a character counted as it may be written inside a JSON string (``\\"`` two bytes,
``\\u00XX`` six).
"""
from __future__ import annotations

import math
import re

try:                                   # the regex parser: re._parser from Python 3.11
    from re import _parser as _regex_parser
except ImportError:                    # pragma: no cover - Python 3.10
    import sre_parse as _regex_parser  # type: ignore[no-redef]

_TOKEN = re.compile(r'''\s*(?:
    (?P<str>"(?:\\.|[^"\\])*")
  | (?P<cls>\[(?:\\.|[^\]\\])*\])
  | (?P<rep>\{\s*(?P<lo>\d+)\s*(?:,\s*(?P<hi>-?\d+)\s*)?\})
  | (?P<look>\(=)
  | (?P<regex>Regex\()
  | (?P<define>::=)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>[()|*+?,=])
)''', re.VERBOSE)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "b": "\b", "f": "\f", "v": "\v"}


def max_bytes(ebnf: str, root: str = "root") -> int | None:
    """The most bytes a document of ``ebnf`` (xgrammar's printed EBNF) can take from rule
    ``root``; None when it is unbounded."""
    rules = _Parser(ebnf).rules()
    widths: dict[str, float] = {}
    visiting: set[str] = set()

    def rule(name: str) -> float:
        if name in widths:
            return widths[name]
        if name in visiting or name not in rules:       # recursion, or a rule we cannot see
            return math.inf
        visiting.add(name)
        widths[name] = width(rules[name])
        visiting.discard(name)
        return widths[name]

    def width(node) -> float:
        kind = node[0]
        if kind == "bytes":
            return node[1]
        if kind == "ref":
            return rule(node[1])
        if kind == "seq":
            return sum(width(n) for n in node[1])
        if kind == "alt":
            return max((width(n) for n in node[1]), default=0)
        _, element, high = node                         # "rep": high None is unbounded
        w = width(element)
        if w == 0:
            return 0
        return math.inf if high is None else high * w

    total = rule(root)
    return None if math.isinf(total) else int(total)


class _Parser:
    """Recursive descent over xgrammar's EBNF printout: ``name ::= alternation`` per rule."""

    def __init__(self, text: str) -> None:
        self.tokens = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ValueError(f"cannot read the grammar near {text[pos:pos + 30]!r}")
            self.tokens.append((m.lastgroup, m))
            pos = m.end()
        self.i = 0

    def rules(self) -> dict[str, tuple]:
        out = {}
        while self.i < len(self.tokens):
            name = self._expect("name").group("name")
            self._expect("define")
            out[name] = self._alternation()
        return out

    def _peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.tokens[j][0] if j < len(self.tokens) else None

    def _op(self, ahead: int = 0) -> str | None:
        return self.tokens[self.i + ahead][1].group("op") if self._peek(ahead) == "op" else None

    def _expect(self, kind: str):
        if self._peek() != kind:
            raise ValueError(f"expected {kind} in the grammar, got {self._peek()}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def _alternation(self) -> tuple:
        branches = [self._sequence()]
        while self._op() == "|":
            self.i += 1
            branches.append(self._sequence())
        return ("alt", branches)

    def _sequence(self) -> tuple:
        items = []
        while self._peek() is not None and self._op() not in ("|", ")") and not (
                self._peek() == "name" and self._peek(1) == "define"):
            items.append(self._quantified(self._element()))
        return ("seq", items)

    def _quantified(self, node: tuple) -> tuple:
        while True:
            if self._op() in ("*", "+"):
                node = ("rep", node, None)
            elif self._op() == "?":
                node = ("rep", node, 1)
            elif self._peek() == "rep":
                hi = self.tokens[self.i][1].group("hi")
                high = int(hi if hi is not None else self.tokens[self.i][1].group("lo"))
                node = ("rep", node, None if high < 0 else high)
            else:
                return node
            self.i += 1

    def _element(self) -> tuple:
        kind, m = self.tokens[self.i]
        self.i += 1
        if kind == "str":
            return ("bytes", len(_unescape(m.group("str")[1:-1]).encode("utf-8", "surrogatepass")))
        if kind == "cls":
            return ("bytes", _class_bytes(m.group("cls")[1:-1]))
        if kind == "name":
            return ("ref", m.group("name"))
        if kind == "look":                  # a lookahead matches nothing itself
            self._alternation()
            self._close()
            return ("bytes", 0)
        if kind == "regex":                 # Regex("pattern", json_string=true)
            pattern = _unescape(self._expect("str").group("str")[1:-1])
            while self._peek() is not None and self._op() != ")":
                self.i += 1
            self._close()
            w = _regex_bytes(pattern)
            return ("bytes", w) if not math.isinf(w) else ("rep", ("bytes", 1), None)
        if kind == "op" and m.group("op") == "(":
            node = self._alternation()
            self._close()
            return node
        raise ValueError(f"unexpected {m.group(0).strip()!r} in the grammar")

    def _close(self) -> None:
        if self._op() != ")":
            raise ValueError("a group in the grammar is not closed")
        self.i += 1


def _unescape(text: str) -> str:
    """The characters an EBNF literal or class stands for (``\\xHH`` and ``\\uHHHH`` are code
    points, as xgrammar prints them)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out.append(c)
            i += 1
            continue
        e = text[i + 1]
        digits = {"x": 2, "u": 4, "U": 8}.get(e)
        if digits:
            out.append(chr(int(text[i + 2:i + 2 + digits], 16)))
            i += 2 + digits
        else:
            out.append(_ESCAPES.get(e, e))
            i += 2
    return "".join(out)


def _class_bytes(body: str) -> int:
    """The widest character of a class, in UTF-8 bytes; any character for a negated class."""
    if body.startswith("^"):
        return 4
    return max((_utf8_len(ord(c)) for c in _unescape(body)), default=0)


def _utf8_len(code: int) -> int:
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _json_char_bytes(low: int, high: int | None = None) -> int:
    """The most bytes a character in [low, high] takes written inside a JSON string."""
    high = low if high is None else high
    if low < 0x20:
        return 6                                    # \u00XX
    if low <= 0x22 <= high or low <= 0x5C <= high:
        return max(2, _utf8_len(high))              # \" or \\
    return _utf8_len(high)


def _regex_bytes(pattern: str) -> float:
    try:
        return _regex_seq(_regex_parser.parse(pattern))
    except Exception:                               # a pattern Python reads differently
        return math.inf


def _regex_seq(items) -> float:
    return sum(_regex_item(op, av) for op, av in items)


def _regex_item(op, av) -> float:
    c = _regex_parser
    if op is c.LITERAL:
        return _json_char_bytes(av)
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return 0
    if op is c.IN:
        if any(o is c.NEGATE or o is c.CATEGORY for o, _ in av):
            return 6
        return max((_json_char_bytes(*(a if o is c.RANGE else (a,))) for o, a in av), default=0)
    if op is c.BRANCH:
        return max(_regex_seq(branch) for branch in av[1])
    if op is c.SUBPATTERN:
        return _regex_seq(av[-1])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, high, sub = av
        w = _regex_seq(sub)
        return 0 if w == 0 else math.inf if high == c.MAXREPEAT else high * w
    if op in (c.NOT_LITERAL, c.ANY, c.CATEGORY):
        return 6
    return math.inf                                 # back-references and the like
