"""The built-in model's byte-level BPE tokenizer and chat template.

Why its own tokenizer: a vocabulary fitted to the prompts the SQL functions build keeps them
short (fewer tokens to train on and to serve), and byte-level BPE can still encode any text, so
no input is ever out of vocabulary.

Why a prefix space: a value in a prompt always follows ``name: `` or another word, so its first
word is the token with the space (``ĠMaria``); an answer starts the assistant turn. Without the
prefix space the answer's first token would be a different one (``Maria``, or ``Mar`` ``ia``),
and copying a span would mean learning a second spelling of every word, impossible for words
the model never saw. With it, an answer is the very tokens of the span, and the decoder strips
the one leading space again, so the text returned is ``Maria Lopez``.

The chat template is what ``Request(chat=True)`` applies; the assistant's answer starts right
after ``<|assistant|>\\n``, where the engine scores the choices, and ends with
``<|endoftext|>``, the EOS that stops free-text generation.
"""
from __future__ import annotations

from typing import Iterable

EOS, USER, ASSISTANT, SYSTEM = "<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>"

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + '\\n' + message['content'] }}"
    "{% if message['role'] == 'assistant' %}{{ '<|endoftext|>' }}{% endif %}"
    "{{ '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' + '\\n' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A ``PreTrainedTokenizerFast`` fitted to ``texts``, with the chat template set."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.Sequence([decoders.ByteLevel(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS, USER, ASSISTANT, SYSTEM],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS,
                                   additional_special_tokens=[USER, ASSISTANT, SYSTEM])
    fast.chat_template = CHAT_TEMPLATE
    return fast
