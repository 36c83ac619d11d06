"""One LLM function call site in a query, as the optimizer hands it to the runtime.

This is the physical operator's description: which function, its instruction, the names its
fields are serialized under, and the decoding options. It carries no values; the runtime
renders one prompt per row from it.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from . import sql_types
from .field_orders import FieldOrders
from .llm_kinds import BY_KIND, KINDS

__all__ = ["LLMCall", "KINDS", "OVERFLOW", "ON_ERROR", "FIELD_ORDERS", "DEFAULT_MAX_TOKENS"]
OVERFLOW = ("error", "truncate")
ON_ERROR = ("null", "raise")           # a typed answer its type cannot hold: NULL, or an error
FIELD_ORDERS = ("as_written", "auto")
DEFAULT_MAX_TOKENS = 32


@dataclass(frozen=True)
class LLMCall:
    kind: str                          # "llm", "filter", "classify" or "extract"
    sql: str                           # the call as written, for error messages
    instruction: str | None            # None: the raw one-argument form
    field_names: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    model: str | None = None           # a registered name; None: the connection's default
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    seed: int | None = None
    on_overflow: str = "error"         # or "truncate": shorten a prompt over the context
    field_order: str = "as_written"    # or "auto": the optimizer may reorder the fields
    field_orders: FieldOrders | None = None   # the per-row orders it chose; None: as written
    returns: str | None = None         # a DuckDB type: the answer is decoded under its grammar
    json_schema: str | None = None     # or a JSON schema (the column is JSON)
    on_error: str = "null"             # or "raise": an answer its type cannot hold is an error

    @property
    def schema(self) -> str | None:
        """The JSON schema the engine decodes under, or None for free text and choices."""
        if self.returns is not None:
            return sql_types.json_schema(self.returns)
        return self.json_schema

    @property
    def expected_tokens(self) -> int:
        """Tokens an answer decodes, as estimates count them: a typed answer about its type's
        length (a DATE some 6, a STRUCT its keys and values), free text up to ``max_tokens``."""
        if self.returns is not None:
            return round(sql_types.decode_tokens(self.returns, self.max_tokens))
        return self.max_tokens

    @property
    def sql_type(self) -> str:
        if self.returns is not None:
            return str(sql_types.parse_type(self.returns))
        return "JSON" if self.json_schema is not None else BY_KIND[self.kind].sql_type

    @property
    def choices(self) -> list[str] | None:
        return BY_KIND[self.kind].choices(self.labels)

    @property
    def deterministic(self) -> bool:
        """Whether one prompt always gets one answer, so results may be cached and shared."""
        return self.temperature == 0 or self.seed is not None or self.choices is not None

    def options_key(self) -> str:
        """The decoding options that, with model and prompt, determine the answer."""
        opts = {"kind": self.kind,
                "max_tokens": self.max_tokens if self.kind in ("llm", "extract") else None,
                "temperature": self.temperature, "seed": self.seed, "labels": list(self.labels)}
        if self.schema is not None:         # typed: the grammar shapes the answer too
            opts["schema"] = self.schema
        return json.dumps(opts, sort_keys=True)

    def answers_key(self) -> str:
        """Calls with equal keys give equal answers to equal prompts: the model and the
        decoding options (the prompt itself carries instruction, fields and hint)."""
        return json.dumps([self.model, self.options_key()])

    def render(self, values: Sequence) -> str | None:
        """The prompt for one row. Fields become ``name: value`` lines after the instruction
        (so the optimizer may reorder them); the raw form is the value itself."""
        if self.instruction is None:
            return None if values[0] in (None, "") else str(values[0])
        head, labels, tail = self._frame
        pairs = zip(labels, values)
        if self.field_orders is not None:
            pairs = [(labels[i], values[i]) for i in self.field_orders.order_of(values)]
        return head + "".join([f"{label}{'NULL' if v is None else v}\n"
                               for label, v in pairs]) + tail

    @cached_property
    def _frame(self) -> tuple[str, tuple[str, ...], str]:
        """What every row's prompt shares, built once per call rather than once per row (a
        LIMIT's candidates can number tens of thousands): the instruction line, each field's
        ``name: `` label (in the written order), and the closing hint line."""
        names = self.field_names
        hint = BY_KIND[self.kind].hint(self.labels, self.returns)
        return self.instruction + "\n", tuple(f"{n}: " for n in names), "" if hint is None else hint + "\n"

    def decode(self, text: str | None):
        """The SQL value of a stored answer; ``sql_types.CastFailure`` when a typed answer does
        not fit its type."""
        if self.returns is not None:
            return sql_types.value_of(text, self.returns)
        if self.json_schema is not None:
            return sql_types.json_document(text)
        return None if text is None else BY_KIND[self.kind].decode(text)
