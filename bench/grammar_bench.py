"""Per-step cost of grammar-constrained decoding for a batch of rows: filling every row's token
bitmask (one ``BatchGrammarMatcher`` call) and applying it to the logits, the two things
``Postprocessor._sample`` adds for rows with a ``json_schema``. ``--tokenizer`` takes a real
model's tokenizer (SmolLM2's 49,152 tokens), so the fill walks a real vocabulary.

Why: DESIGN.md measured that the fill is cheap and the apply is memory-bound; this re-measures
both through the engine's own backend. The random model's tokenizer has a few hundred real
tokens (the rest of ``--vocab`` is padding), so the fill time here is a lower bound; the apply
time scales with ``--vocab`` as it would for a real model.

    PYTHONPATH=. python bench/grammar_bench.py --rows 256 --vocab 49152
    PYTHONPATH=. python bench/grammar_bench.py --rows 256 --tokenizer SmolLM2-135M-Instruct.Q4_1.gguf
    PYTHONPATH=. python bench/grammar_bench.py --jump-forward --rows 64     # decode steps

The whole cost in the engine, typed INTEGER answers against free text of the same lengths, is
``bench/engine_bench.py --typed``. ``--jump-forward`` counts the decode steps of a four-key
record with jump-forward on and off (issue 23: at most its value tokens plus two per row).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                                           "score": {"type": "integer"},
                                           "tags": {"type": "array", "items": {"type": "string"}},
                                           "kind": {"enum": ["a", "b", "c"]}},
          "required": ["name", "score", "tags", "kind"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--jump-forward", action="store_true",
                    help="decode steps of a four-key record, jump-forward on and off")
    ap.add_argument("--size", default="tiny", help="--jump-forward: the random model's size")
    ap.add_argument("--tokenizer", help="a model folder or GGUF file whose tokenizer (and "
                    "vocabulary size) to use instead of a random model's")
    args = ap.parse_args()
    if args.jump_forward:
        decode_steps(args.rows, args.size)
        return
    from infersql.demo_model import build_random_model
    from transformers import AutoTokenizer

    from executor.engine.grammar import Grammars
    if args.tokenizer:
        from executor.engine.gguf_model import load_tokenizer
        tokenizer = load_tokenizer(args.tokenizer)
        args.vocab = len(tokenizer)
    else:
        path = build_random_model(tempfile.mkdtemp(), "qwen2", vocab_size=args.vocab)
        tokenizer = AutoTokenizer.from_pretrained(path)
    grammars = Grammars(tokenizer, args.vocab, {tokenizer.eos_token_id})
    compiled = grammars.compile(json.dumps(SCHEMA))
    matchers = [compiled.matcher() for _ in range(args.rows)]
    first = tokenizer.encode('{', add_special_tokens=False)[0]
    for m in matchers[::2]:                     # rows at two places in the document
        assert m.accept_token(first)
    backend = grammars.backend
    import xgrammar as xgr
    bitmask = xgr.allocate_token_bitmask(args.rows, args.vocab)
    logits = torch.randn(args.rows, args.vocab)
    fill, apply = [], []
    for _ in range(args.steps):
        t = time.perf_counter()
        backend.batch.batch_fill_next_token_bitmask(matchers, bitmask)
        fill.append(time.perf_counter() - t)
        t = time.perf_counter()
        xgr.apply_token_bitmask_inplace(logits, bitmask, vocab_size=args.vocab)
        apply.append(time.perf_counter() - t)
    print(json.dumps({"rows": args.rows, "vocab": args.vocab,
                      "fill_ms": round(1e3 * min(fill), 3), "apply_ms": round(1e3 * min(apply), 3)}))


def decode_steps(rows: int, size: str) -> None:
    """Per row of a four-key record (tests/record_tokens.py): its tokens, the tokens carrying a
    value, and its decode steps (sampled tokens) with jump-forward on and off; greedy and
    sampled rows alternate."""
    import statistics

    import xgrammar as xgr

    from executor.engine import Engine, EngineConfig, Request
    from executor.sql_types import json_schema, token_bound
    from infersql.demo_model import build_random_model
    from tests.record_tokens import RECORD, value_tokens

    path = str(build_random_model(tempfile.mkdtemp(), "qwen2", size=size))
    schema = json_schema(RECORD)
    reqs = [Request(prompt=f"Row {i}: who, what colour, when?", max_tokens=token_bound(schema),
                    json_schema=schema, temperature=(0.0, 1.0)[i % 2], seed=i) for i in range(rows)]
    for jump in (True, False):
        engine = Engine(EngineConfig(model=path, jump_forward=jump))
        vocab = xgr.TokenizerInfo.from_huggingface(engine.tokenizer).decoded_vocab
        t = time.perf_counter()
        outs = engine.generate(reqs)
        seconds = time.perf_counter() - t
        steps = [len(o.token_ids) - o.forced_tokens for o in outs]
        values = [value_tokens([vocab[i] for i in o.token_ids]) for o in outs]
        print(json.dumps({"jump_forward": jump, "rows": rows, "size": size,
                          "tokens_per_row": statistics.mean(len(o.token_ids) for o in outs),
                          "value_tokens_per_row": statistics.mean(values),
                          "decode_steps_per_row": statistics.mean(steps),
                          "max_steps_minus_value_tokens": max(s - v for s, v in zip(steps, values)),
                          "iterations": engine.stats.iterations, "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
