"""A four-key record and how many of its output tokens carry a value: what jump-forward's
promise is counted against (tests/test_engine_jump_forward.py, bench/grammar_bench.py)."""
from __future__ import annotations

# four values that end themselves (a boolean, an enum, a bounded string, a date): once one is
# written, the grammar forces the next key
RECORD = "STRUCT(flag BOOLEAN, color ENUM('red', 'green', 'blue'), name VARCHAR(6), day DATE)"
KEYS = ("flag", "color", "name", "day")


def value_tokens(token_bytes: list[bytes], keys=KEYS) -> int:
    """How many of a record's output tokens carry a byte of a value: the document (after the
    grammar's optional leading space) is ``{"k1": v1, "k2": v2, ...}``, and everything between
    one key's ``": "`` and the next ``, "key": `` (or the closing brace) is its value."""
    doc = b"".join(token_bytes)
    skip = 1 if doc.startswith(b" ") else 0
    spans, pos = [], skip
    for i, key in enumerate(keys):
        head = (b"{" if i == 0 else b", ") + b'"' + key.encode() + b'": '
        assert doc.startswith(head, pos), doc
        start = pos + len(head)
        if i + 1 < len(keys):
            pos = doc.index(b', "' + keys[i + 1].encode() + b'": ', start)
        else:
            pos = len(doc) - 1                  # the closing brace
        spans.append((start, pos))
    count, at = 0, 0
    for piece in token_bytes:
        lo, hi = at, at + len(piece)
        count += any(lo < e and s < hi for s, e in spans)
        at = hi
    return count
