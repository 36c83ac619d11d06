"""Jump-forward: text the grammar forces (a key, its quotes and colon, a comma, a closing brace)
is appended as tokens without a decode step each.

After a sampled token, the matcher tells the longest string that every document must continue
with. The engine appends its tokens as not-yet-computed tokens of the sequence; the next
iteration computes them with the sampled token as one chunk (like a prefill chunk) and samples
the next free token from the chunk's last position. So a record's keys cost no decode steps.

Two tokenization traps, as vLLM and SGLang describe them:
- the forced text is encoded with the model's own tokenizer, so the model reads it as its
  tokenizer would have written it, and used only if it decodes back to itself exactly (a
  SentencePiece tokenizer that adds a leading space does not: no jump then);
- its last token is left for the model to sample, unless it completes the document: forced
  ``": "`` ends in a space that a byte-level BPE writes merged with the value that follows
  (``" true"``), and appending the bare space would force a tokenization the model never saw.
The past is never retokenized: a sampled token and the forced text after it keep their
boundary, so no computed token changes.

Greedy output is therefore not token-identical to decoding every forced token (the model might
have spelled a key in other tokens), but it is the same grammar: every document conforms.
"""
from __future__ import annotations

from typing import Callable

from .backend import Matcher

_CACHE_SIZE = 4096      # distinct forced strings remembered (keys and their punctuation)


class JumpForward:
    """The forced tokens of a matcher's state, encoded once per distinct forced string."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self._ids: dict[str, list[int]] = {}

    def forced_tokens(self, matcher: Matcher, room: int,
                      finished: Callable[[Matcher], bool]) -> list[int]:
        """The tokens to append after ``matcher``'s last accepted token, already accepted by
        it; at most ``room``. ``finished(matcher)`` says whether the document is done."""
        text = matcher.find_jump_forward_string() if room > 0 else ""
        ids = self._encode(text)[:room] if text else []
        accepted = 0
        for token in ids:
            if not matcher.accept_token(token):
                break
            accepted += 1
        if accepted < len(ids):                 # the tokenizer's split is not the grammar's
            if accepted:
                matcher.rollback(accepted)
            return []
        if ids and not finished(matcher):       # the last one may merge with what follows
            matcher.rollback(1)
            ids = ids[:-1]
        return ids

    def _encode(self, text: str) -> list[int]:
        ids = self._ids.get(text)
        if ids is None:
            ids = self.tokenizer.encode(text, add_special_tokens=False)
            if self.tokenizer.decode(ids, clean_up_tokenization_spaces=False) != text:
                ids = []
            if len(self._ids) >= _CACHE_SIZE:
                self._ids.clear()
            self._ids[text] = ids
        return ids
