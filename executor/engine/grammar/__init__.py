"""Grammar-constrained decoding (typed outputs): a request's ``json_schema`` becomes a grammar,
each of its sequences a matcher, and every step masks the logits of the rows that have one.

``Grammars`` is the engine's entry point. It builds its backend on first use, so an engine that
never sees a schema never imports the grammar library (plain SQL does not pay for it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import CompiledGrammar, GrammarBackend, LibraryMissing, Matcher, SchemaError
from .jump_forward import JumpForward

if TYPE_CHECKING:
    import torch

__all__ = ["Grammars", "CompiledGrammar", "GrammarBackend", "LibraryMissing", "Matcher",
           "SchemaError", "max_document_tokens"]


def max_document_tokens(json_schema: str) -> int | None:
    """The most tokens a document of ``json_schema`` can take under its grammar, whatever the
    model and tokenizer: every token writes at least one byte (the stop token ends a document
    that could go on), so the grammar's longest document in bytes bounds it. None when the
    schema leaves a string, list or number unbounded. ``SchemaError`` names what the library
    rejects; ``LibraryMissing`` gives the fix when it is not installed."""
    try:
        from .xgrammar_backend import max_document_bytes
    except ModuleNotFoundError as exc:
        raise LibraryMissing() from exc
    return max_document_bytes(json_schema)


class Grammars:
    """One engine's grammar support: the model's tokenizer, vocabulary size and stop tokens,
    and whether forced text is appended without decode steps (``jump_forward``)."""

    def __init__(self, tokenizer, vocab_size: int, stop_ids: set[int],
                 jump_forward: bool = True) -> None:
        self.tokenizer, self.vocab_size, self.stop_ids = tokenizer, vocab_size, sorted(stop_ids)
        self._backend: GrammarBackend | None = None
        self._jump = JumpForward(tokenizer) if jump_forward else None

    @property
    def backend(self) -> GrammarBackend:
        if self._backend is None:
            try:
                from .xgrammar_backend import XGrammarBackend
            except ModuleNotFoundError as exc:     # an optional extra: said, with the fix
                raise LibraryMissing() from exc
            self._backend = XGrammarBackend(self.tokenizer, self.vocab_size, self.stop_ids)
        return self._backend

    def compile(self, json_schema: str) -> CompiledGrammar:
        """Compiled once per schema text; ``SchemaError`` names what the library rejects."""
        return self.backend.compile(json_schema)

    def mask(self, logits: torch.Tensor, matchers: list[Matcher | None],
             greedy: list[bool] | None = None) -> None:
        """Mask, in place, the rows of ``logits`` that have a matcher; nothing if none has.
        ``greedy[i]``: row ``i`` takes its argmax, so its mask may be skipped when the argmax
        is allowed anyway (the token chosen is the same)."""
        if any(m is not None for m in matchers):
            self.backend.mask_logits(logits, matchers, greedy)

    def forced_tokens(self, matcher: Matcher, room: int) -> list[int]:
        """Jump-forward: the tokens the grammar forces next (at most ``room``), accepted by
        ``matcher``, for the engine to append without decoding them; none when it is off."""
        if self._jump is None or self.finished(matcher):
            return []
        return self._jump.forced_tokens(matcher, room, self.finished)

    def finished(self, matcher: Matcher) -> bool:
        """Whether the grammar is done after the last accepted token: terminated, or complete
        with nothing but a stop token allowed next (so no decode step is spent on EOS)."""
        return matcher.is_terminated() or self.backend.only_stop_allowed(matcher)
