"""Turning user ``Request`` objects into validated token ids, before any work starts.

Every check runs for the whole batch first, so a bad request raises before the engine has
touched its cache, and the error names the request by its index.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import CacheTooSmallError, EngineError, InvalidRequestError
from .grammar import CompiledGrammar, Grammars, SchemaError
from .request import Request


@dataclass
class PreparedRequest:
    prompt_ids: list[int]
    choice_ids: list[list[int]] | None   # token ids of each choice, in the order given
    grammar: CompiledGrammar | None = None   # the json_schema's grammar


def encode_prompt(tokenizer, text: str, chat: bool) -> list[int]:
    """Token ids of a text prompt, through the chat template when asked and one exists."""
    return encode_prompts(tokenizer, [text], chat)[0]


def encode_prompts(tokenizer, texts: list[str], chat: bool) -> list[list[int]]:
    """``encode_prompt`` of many texts in one call: the fast tokenizer encodes a batch in
    parallel, which matters when a training run encodes a quarter of a million prompts."""
    if chat and getattr(tokenizer, "chat_template", None):
        rendered = tokenizer.apply_chat_template([[{"role": "user", "content": t}] for t in texts],
                                                 add_generation_prompt=True, tokenize=False)
        return tokenizer(rendered, add_special_tokens=False).input_ids
    return tokenizer(texts).input_ids


def encode_choices(tokenizer, choices: list[str]) -> list[list[int]]:
    """Each choice's token ids as they follow the prompt (no special tokens)."""
    return [tokenizer.encode(c, add_special_tokens=False) for c in choices]


def prepare_all(requests: list[Request], tokenizer, max_model_len: int, vocab_size: int,
                num_blocks: int, block_size: int,
                grammars: Grammars | None = None) -> list[PreparedRequest]:
    """``prepare`` every request before any runs; an error carries the index of the request at
    fault (``request_index``), so callers can name the row. ``grammars`` compiles schemas."""
    preps = []
    for i, req in enumerate(requests):
        try:
            prep = prepare(i, req, tokenizer, max_model_len, vocab_size, num_blocks, block_size)
            prep.grammar = compile_schema(f"request {i}", req, grammars)
            preps.append(prep)
        except EngineError as exc:
            exc.request_index = i
            raise
    return preps


def prepare(index: int, req: Request, tokenizer, max_model_len: int, vocab_size: int,
            num_blocks: int, block_size: int) -> PreparedRequest:
    where = f"request {index}"
    if (req.prompt is None) == (req.prompt_ids is None):
        raise InvalidRequestError(f"{where}: give exactly one of prompt= or prompt_ids=")
    if req.prompt is not None:
        if not isinstance(req.prompt, str):
            raise InvalidRequestError(f"{where}: prompt must be a str, got {type(req.prompt).__name__}")
        ids = encode_prompt(tokenizer, req.prompt, req.chat) if req.prompt else []
    else:
        ids = list(req.prompt_ids)
        bad = [t for t in ids if not isinstance(t, int) or not 0 <= t < vocab_size]
        if bad:
            raise InvalidRequestError(
                f"{where}: prompt_ids holds {bad[0]!r}, not a token id of this model (0..{vocab_size - 1})")
    if not ids:
        raise InvalidRequestError(f"{where}: the prompt is empty; give at least one token")
    if not isinstance(req.max_tokens, int) or req.max_tokens < 1:
        raise InvalidRequestError(f"{where}: max_tokens must be an integer >= 1, got {req.max_tokens!r}")
    if not isinstance(req.temperature, (int, float)) or req.temperature < 0:
        raise InvalidRequestError(f"{where}: temperature must be >= 0, got {req.temperature!r}")
    if not isinstance(req.top_p, (int, float)) or not 0 < req.top_p <= 1:
        raise InvalidRequestError(f"{where}: top_p must be in (0, 1], got {req.top_p!r}")
    if isinstance(req.stop, str) or any(not isinstance(s, str) or not s for s in req.stop):
        raise InvalidRequestError(f"{where}: stop must be a list of non-empty strings")
    choice_ids = None
    longest = req.max_tokens
    if req.choices is not None:
        if isinstance(req.choices, str) or not req.choices or any(
                not isinstance(c, str) or not c for c in req.choices):
            raise InvalidRequestError(f"{where}: choices must be a non-empty list of non-empty strings")
        if len(set(req.choices)) != len(req.choices):
            raise InvalidRequestError(f"{where}: choices must be distinct, got {req.choices!r}")
        choice_ids = encode_choices(tokenizer, req.choices)
        longest = max(len(c) for c in choice_ids)
    if len(ids) + (longest if choice_ids else 1) > max_model_len:
        raise InvalidRequestError(
            f"{where}: the prompt has {len(ids)} tokens and the model's context is {max_model_len}; "
            "shorten the prompt")
    need = -(-min(len(ids) + longest, max_model_len) // block_size)
    if need > num_blocks:
        raise CacheTooSmallError(
            f"{where}: needs {need} KV blocks ({len(ids)} prompt + {longest} new tokens) but the "
            f"cache holds {num_blocks}; raise kv_cache_bytes")
    return PreparedRequest(ids, choice_ids)


def compile_schema(where: str, req: Request, grammars: Grammars | None) -> CompiledGrammar | None:
    """The grammar of ``req.json_schema`` (None without one); ``InvalidRequestError`` for a
    schema the grammar library rejects, or one combined with ``choices`` or ``stop``."""
    if req.json_schema is None:
        return None
    if not isinstance(req.json_schema, str):
        raise InvalidRequestError(f"{where}: json_schema must be a str (JSON Schema text), "
                                  f"got {type(req.json_schema).__name__}")
    if req.choices is not None:
        raise InvalidRequestError(f"{where}: give json_schema or choices, not both")
    if req.stop:
        raise InvalidRequestError(f"{where}: json_schema cannot be combined with stop strings "
                                  "(a stop string would cut the JSON document)")
    if grammars is None:
        raise InvalidRequestError(f"{where}: json_schema needs an engine with grammar support")
    try:
        return grammars.compile(req.json_schema)
    except SchemaError as exc:
        raise InvalidRequestError(f"{where}: json_schema is not usable: {exc}") from None
