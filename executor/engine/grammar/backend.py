"""The backend-neutral grammar interface: what the engine needs from a constrained-decoding
library, so xgrammar (the first backend) can be joined or replaced (llguidance) without the
engine changing.

A *compiled grammar* is built once per JSON schema text (a call site's schema is the same for
every row) and cached by the backend; each sequence gets its own *matcher*, the grammar's state
after the tokens it has accepted. Per step the engine asks the backend to mask a batch of logits
rows in place (one library call fills every row's bitmask) and, after sampling, feeds each
matcher its token.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:     # imported by request preparation, which plain SQL loads without torch
    import torch


class SchemaError(ValueError):
    """The backend cannot build a grammar from this schema; the message names the problem."""


class LibraryMissing(SchemaError):
    """The grammar library is not installed; the message gives the fix."""

    def __init__(self) -> None:
        super().__init__("typed answers need the xgrammar package: pip install 'infersql[typed]'")


class Matcher(Protocol):
    """One sequence's grammar state (xgrammar's ``GrammarMatcher`` has exactly these)."""

    def accept_token(self, token_id: int) -> bool: ...
    def fill_next_token_bitmask(self, bitmask: torch.Tensor, index: int = 0) -> Any: ...
    def is_terminated(self) -> bool: ...
    def is_completed(self) -> bool: ...
    def rollback(self, num_tokens: int = 1) -> None: ...
    def find_jump_forward_string(self) -> str: ...


class GrammarBackend(ABC):
    """A constrained-decoding library bound to one model's tokenizer and vocabulary size."""

    cache_size = 64     # compiled grammars kept; a query has a handful of call sites

    def __init__(self) -> None:
        self._compiled: OrderedDict[str, Any] = OrderedDict()

    def compile(self, json_schema: str) -> "CompiledGrammar":
        """The grammar of ``json_schema``, compiled once per schema text (LRU); raises
        ``SchemaError`` naming the problem when the library rejects the schema."""
        compiled = self._compiled.get(json_schema)
        if compiled is None:
            compiled = self._compile(json_schema)
            if len(self._compiled) >= self.cache_size:
                self._compiled.popitem(last=False)
        self._compiled[json_schema] = compiled
        self._compiled.move_to_end(json_schema)
        return CompiledGrammar(self, compiled)

    @abstractmethod
    def _compile(self, json_schema: str) -> Any:
        """The library's compiled grammar, or ``SchemaError``."""

    @abstractmethod
    def matcher(self, compiled: Any) -> Matcher:
        """A fresh matcher at the start of ``compiled``."""

    @abstractmethod
    def mask_logits(self, logits: torch.Tensor, matchers: list[Matcher | None],
                    greedy: list[bool] | None = None) -> None:
        """Set to -inf, in place, every logit row ``i``'s tokens that ``matchers[i]`` forbids;
        rows whose matcher is None stay as they are. A row with ``greedy[i]`` may be left as it
        is when its highest logit is a token the grammar allows (its argmax is the same)."""

    @abstractmethod
    def only_stop_allowed(self, matcher: Matcher) -> bool:
        """Whether the grammar is complete and allows nothing but a stop token next, so the
        sequence can finish now instead of spending a decode step on EOS."""


@dataclass(frozen=True)
class CompiledGrammar:
    """A compiled grammar with the backend that made it: what a prepared request carries."""

    backend: GrammarBackend
    compiled: Any

    def matcher(self) -> Matcher:
        return self.backend.matcher(self.compiled)
