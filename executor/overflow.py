"""``on_overflow := 'truncate'``: shorten a row's prompt until it fits the model's context.

The structured form keeps its instruction, field names and answer hint, and cuts the longest
field value from its end, since those are what make the prompt a question; the raw form cuts
the text itself from its end. Cutting happens at token boundaries (through the tokenizer's
character offsets), so no character is split. Without the option a long prompt is an error
that names the row, as the engine reports it.
"""
from __future__ import annotations

from executor.engine.requests_prep import encode_prompt

from .llm_call import LLMCall

_ATTEMPTS = 8        # re-tokenizing the joined prompt can differ by a token or two at seams


def budget(call: LLMCall, tokenizer, max_model_len: int) -> int:
    """Prompt tokens a row may use: the context less room for the answer (at most half)."""
    if call.choices is not None:
        room = max(len(tokenizer.encode(c, add_special_tokens=False)) for c in call.choices)
    else:
        room = call.max_tokens
    return max_model_len - min(room, max_model_len // 2)


def cut_tokens(tokenizer, text: str, drop: int) -> str:
    """``text`` without its last ``drop`` tokens (all of it if it has no more)."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    keep = len(enc.input_ids) - drop
    if keep <= 0:
        return ""
    return text[:enc.offset_mapping[keep][0]] if keep < len(enc.input_ids) else text


def fit(call: LLMCall, values: list, tokenizer, limit: int) -> str | None:
    """The row's prompt, shortened to at most ``limit`` tokens where needed (as the engine
    counts them: through the chat template)."""
    def count(text: str) -> int:
        return len(encode_prompt(tokenizer, text, chat=True))

    prompt = call.render(values)
    if prompt is None or (over := count(prompt) - limit) <= 0:
        return prompt
    values = [None if v is None else str(v) for v in values]
    for _ in range(_ATTEMPTS):
        if call.instruction is None:
            values[0] = cut_tokens(tokenizer, values[0], over)
        else:
            longest = max(range(len(values)), key=lambda i: len(values[i] or ""))
            if not values[longest]:
                break                  # the instruction alone is too long: the engine says so
            values[longest] = cut_tokens(tokenizer, values[longest], over)
        prompt = call.render(values)
        if (over := count(prompt) - limit) <= 0:
            break
    return prompt
