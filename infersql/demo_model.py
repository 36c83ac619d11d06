"""Tiny random causal LMs built on the spot, with a tokenizer trained on the spot.

Why: the machine that runs the tests (and a user's first command) has no model hub, so the
project makes its own Hugging Face folders with ``save_pretrained``. They load through exactly
the same code path as a real checkpoint. The weights are random: the text they produce is
gibberish, so they serve tests and benchmarks; the default model a user gets is the trained
one in ``infersql/builtin_model`` (``default_model_path``).
"""
from __future__ import annotations

import os
from pathlib import Path

# Text the byte-level BPE is trained on: enough English for merges that make prompts short.
_CORPUS = """\
Answer the question about the row below. Reply with yes or no.
Is this review positive? The movie was a delight from start to finish, with a warm cast.
The acting was wooden and the plot made no sense; I left before the end.
Summarize the critic's opinion in five words. A tense, clever thriller that keeps you guessing.
Classify the sentiment as positive, negative or neutral. The product arrived broken and late.
Great value for the price, works exactly as described, would buy again.
This beer pours a hazy gold with a thick white head and smells of citrus and pine.
The taste is bitter, malty and a little sweet, with a dry finish.
title: review: rating: name: style: genre: description: NULL true false yes no
The score is written for piano and violin in the key of D minor, with a slow second movement.
Which genre fits this film best: drama, comedy, horror, action, documentary or animation?
Does the review praise the acting? Does the customer recommend the product?
yes
no
Yes
No
"""

ARCHITECTURES = ("qwen2", "llama", "mistral")


def _train_tokenizer(vocab_size: int):
    """A byte-level BPE trained on the small corpus above, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS.splitlines() * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def _config(architecture: str, vocab_size: int, eos_id: int, size: str):
    import transformers

    dims = {
        "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2),
        "small": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                      num_attention_heads=8, num_key_value_heads=4),
        "medium": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=8,
                       num_attention_heads=8, num_key_value_heads=4),
    }[size]
    common = dict(vocab_size=vocab_size, max_position_embeddings=2048, bos_token_id=eos_id,
                  eos_token_id=eos_id, pad_token_id=eos_id, tie_word_embeddings=False,
                  initializer_range=0.2, **dims)
    cls = {"qwen2": transformers.Qwen2Config, "llama": transformers.LlamaConfig,
           "mistral": transformers.MistralConfig}
    if architecture not in cls:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")
    return cls[architecture](**common)


def build_random_model(folder: str | os.PathLike, architecture: str = "qwen2", *,
                       size: str = "tiny", vocab_size: int = 512, seed: int = 0) -> Path:
    """Write a random-weight causal LM and its tokenizer to ``folder``; return the path.

    ``initializer_range`` is large on purpose: peaked logits keep greedy decoding away from
    near-ties, so token-exact comparisons against ``generate`` test the engine, not rounding.
    """
    import torch
    from transformers import AutoModelForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(vocab_size)
    config = _config(architecture, len(tokenizer), tokenizer.eos_token_id, size)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def default_model_path() -> Path:
    """The default model of ``connect()`` and the CLI: the trained built-in model that ships
    inside the package (``infersql/builtin_model/model``), so nothing is generated or fetched."""
    from .builtin_model import MODEL_DIR

    return MODEL_DIR
