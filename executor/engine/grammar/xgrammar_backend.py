"""The xgrammar backend (as vLLM and SGLang use it): JSON-schema grammars, per-sequence
``GrammarMatcher``s, and a ``BatchGrammarMatcher`` that fills a whole batch's token bitmasks in
one library call per step. Imported only when a request has a schema, so plain requests never
load xgrammar.
"""
from __future__ import annotations

import functools
import logging
import re
from typing import Any

import torch
import xgrammar as xgr

from .backend import GrammarBackend, Matcher, SchemaError
from .ebnf_bound import max_bytes

# xgrammar's C++ errors start with "[hh:mm:ss] /path/file.cc:123: " and sometimes a failed
# check's text; the user needs only the sentence after them.
_NOISE = re.compile(r"^\[[^\]]*\]\s*\S+:\d+:\s*(Check failed: .*? is false: )?")
_LOOSE_STRING_CHAR = r'[^\"\\\r\n]'
_STRICT_STRING_CHAR = r'[^\0-\x1f\"\\\r\n\uD800-\uDFFF]'
_UNBOUNDED_STRING_CHAR = r'[^\0-\x1f\"\\\r\n]'
_ROOT = re.compile(r"^root ::= (.*)$", re.MULTILINE)
log = logging.getLogger(__name__)


class XGrammarBackend(GrammarBackend):
    def __init__(self, tokenizer, vocab_size: int, stop_ids: list[int]) -> None:
        super().__init__()
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size,
                                                  stop_token_ids=stop_ids)
        self.vocab_size = vocab_size
        self.stop_ids = list(info.stop_token_ids)
        self.compiler = xgr.GrammarCompiler(info)
        self.batch = xgr.BatchGrammarMatcher()
        self._one_row = xgr.allocate_token_bitmask(1, vocab_size)
        self._stop_words = torch.zeros_like(self._one_row)     # the stop tokens' bits
        for t in self.stop_ids:
            self._stop_words[0, t // 32] |= _bit(t % 32)

    def _compile(self, json_schema: str) -> Any:
        return self.compiler.compile_grammar(json_schema_ebnf(json_schema))

    def matcher(self, compiled: Any) -> Matcher:
        return xgr.GrammarMatcher(compiled)

    def mask_logits(self, logits: torch.Tensor, matchers: list[Matcher | None],
                    greedy: list[bool] | None = None) -> None:
        rows = [i for i, m in enumerate(matchers) if m is not None]
        if not rows:
            return
        bitmask = xgr.allocate_token_bitmask(len(matchers), self.vocab_size)
        self.batch.batch_fill_next_token_bitmask([matchers[i] for i in rows], bitmask, indices=rows)
        if greedy is not None:
            rows = _still_to_mask(logits, bitmask, rows, greedy)
        if rows:
            xgr.apply_token_bitmask_inplace(logits, bitmask, vocab_size=self.vocab_size,
                                            indices=rows)

    def only_stop_allowed(self, matcher: Matcher) -> bool:
        if not matcher.is_completed():
            return False
        matcher.fill_next_token_bitmask(self._one_row, 0)
        return not bool((self._one_row & ~self._stop_words).any())


@functools.lru_cache(maxsize=256)
def max_document_bytes(json_schema: str) -> int | None:
    """The longest document, in bytes, of the grammar the engine compiles for ``json_schema``
    (None: unbounded, or a grammar text this xgrammar prints in a form ``ebnf_bound`` cannot
    read, which is logged: a typed call then keeps a default budget)."""
    ebnf = json_schema_ebnf(json_schema)
    try:
        return max_bytes(ebnf)
    except ValueError as exc:
        log.warning("cannot read the length bound of the grammar of %s: %s", json_schema[:80], exc)
        return None


def _still_to_mask(logits: torch.Tensor, bitmask: torch.Tensor, rows: list[int],
                   greedy: list[bool]) -> list[int]:
    """The rows that need their mask applied: a greedy row whose best token the grammar allows
    picks that token masked or not, so only sampled rows and greedy rows whose best token is
    forbidden pay for writing -inf over the whole vocabulary (the step's costly part)."""
    picks = [i for i in rows if greedy[i]]
    if not picks:
        return rows
    index = torch.tensor(picks)
    best = logits[index].argmax(-1) if len(picks) < len(logits) else logits.argmax(-1)
    allowed = (bitmask[index, best // 32] >> (best % 32)) & 1
    forbidden = {i for i, ok in zip(picks, allowed.tolist()) if not ok}
    return [i for i in rows if not greedy[i] or i in forbidden]


def json_schema_ebnf(json_schema: str) -> str:
    """The compact (``any_whitespace=False``) grammar of ``json_schema`` as xgrammar's EBNF,
    with one fix: xgrammar 0.2.9 lets a string's characters be surrogate code points (UTF-8
    bytes no decoder accepts; they come back as U+FFFD, so a ``maxLength`` is broken) and, in a
    length-bounded string, raw control characters, which JSON forbids and ``json.loads``
    rejects. Both are taken out of the string character classes. ``SchemaError`` names what
    xgrammar rejects."""
    try:
        ebnf = str(xgr.Grammar.from_json_schema(json_schema, any_whitespace=False))
    except (RuntimeError, ValueError, TypeError) as exc:
        lines = [_NOISE.sub("", line).strip() for line in str(exc).splitlines()]
        raise SchemaError("; ".join(line for line in lines if line)) from None
    for loose in (_LOOSE_STRING_CHAR, _UNBOUNDED_STRING_CHAR):
        ebnf = ebnf.replace(loose, _STRICT_STRING_CHAR)
    # One optional space before the document: byte-level tokenizers that add a prefix space
    # (the built-in model's, GPT-2's) start an answer with a space token ("Ġ193" for 1932);
    # masking it sends the model down a worse path. One space, so the grammar stays bounded.
    return _ROOT.sub(lambda m: f'root ::= ((" ")? {m.group(1)})', ebnf, count=1)


def _bit(i: int) -> int:
    """Bit ``i`` of an int32 word, as a signed value (bit 31 is the sign)."""
    return (1 << i) - (1 << 32) if i == 31 else 1 << i
