"""What a caller hands the engine and what it gets back."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Request:
    """One generation. Give ``prompt`` (text) or ``prompt_ids`` (token ids), not both.

    ``choices`` constrains the answer to one of the given strings; the engine picks the choice
    with the highest total log-probability under the model (all of its tokens, not only the
    first), so multi-token labels are scored correctly.

    ``chat=True`` wraps a text ``prompt`` as one user message in the tokenizer's chat template
    (with the assistant turn opened), which instruction-tuned checkpoints expect; a tokenizer
    without a template gets the text as it is.

    ``json_schema`` (a JSON Schema, as text) constrains decoding to the schema's grammar: the
    output text is a complete, compact JSON document that conforms, whatever the model, and
    the request finishes ("stop") as soon as the document is complete. If ``max_tokens`` runs
    out first, the finish reason is "length" and the text is incomplete: a ``max_tokens`` of
    ``grammar.max_document_tokens(json_schema)`` (when the schema bounds its strings, lists and
    numbers) never runs out. Text the grammar forces (keys, quotes, braces) is appended without a
    decode step (``EngineConfig.jump_forward``). Not with ``choices`` (they are scored, not
    decoded) nor ``stop`` (a stop string would cut the document).
    """

    prompt: str | None = None
    prompt_ids: list[int] | None = None
    max_tokens: int = 16
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    choices: list[str] | None = None
    ignore_eos: bool = False
    chat: bool = False
    json_schema: str | None = None


@dataclass
class Output:
    """The result of one request, returned in request order.

    ``finish_reason`` is ``"stop"`` (EOS, a stop string, or a chosen answer) or ``"length"``.
    ``cached_tokens`` is how many prompt tokens came from the prefix cache. ``forced_tokens``
    is how many of ``token_ids`` a grammar forced and the engine appended without sampling
    (jump-forward); the others each took a decode step.
    """

    text: str
    token_ids: list[int]
    finish_reason: str
    prompt_tokens: int = 0
    cached_tokens: int = 0
    forced_tokens: int = 0
