"""Per-step cost of grammar-constrained decoding for a batch of rows: filling every row's token
bitmask (one ``BatchGrammarMatcher`` call) and applying it to the logits, the two things
``Postprocessor._sample`` adds for rows with a ``json_schema``.

Why: DESIGN.md measured that the fill is cheap and the apply is memory-bound; this re-measures
both through the engine's own backend. The random model's tokenizer has a few hundred real
tokens (the rest of ``--vocab`` is padding), so the fill time here is a lower bound; the apply
time scales with ``--vocab`` as it would for a real model.

    PYTHONPATH=. python bench/grammar_bench.py --rows 256 --vocab 49152
    PYTHONPATH=. python bench/grammar_bench.py --engine --rows 64 --vocab 8192   # typed vs free

``--engine`` measures the whole cost in the engine instead: the same prompts decoded as typed
INTEGER answers and as free text of exactly the same lengths (``ignore_eos``), side by side, and
prints the ratio of their times (issue 23's target: at most 1.15x).
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
    ap.add_argument("--engine", action="store_true", help="typed against free text, in the engine")
    ap.add_argument("--size", default="medium", help="--engine: the random model's size")
    args = ap.parse_args()
    if args.engine:
        typed_against_free_text(args.rows, args.vocab, args.size)
        return
    from infersql.demo_model import build_random_model
    from transformers import AutoTokenizer

    from executor.engine.grammar import Grammars
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


def typed_against_free_text(rows: int, vocab: int, size: str) -> None:
    from executor.engine import Engine, EngineConfig, Request
    from infersql.demo_model import build_random_model

    path = build_random_model(tempfile.mkdtemp(), "qwen2", size=size, vocab_size=vocab)
    engine = Engine(EngineConfig(model=str(path)))
    prompts = [f"Row {i}: what is the number?" for i in range(rows)]
    schema = json.dumps({"type": "integer", "minimum": -2**31, "maximum": 2**31 - 1})

    def typed():
        return engine.generate([Request(prompt=p, max_tokens=16, json_schema=schema) for p in prompts])

    lengths = [max(1, len(o.token_ids)) for o in typed()]          # also warms up both paths

    def free():
        return engine.generate([Request(prompt=p, max_tokens=n, ignore_eos=True)
                                for p, n in zip(prompts, lengths)])

    free()
    times = {}
    for name, run in (("typed", typed), ("free", free), ("typed", typed), ("free", free)):
        t = time.perf_counter()
        outs = run()
        times[name] = min(times.get(name, 1e9), time.perf_counter() - t)
        assert sum(len(o.token_ids) for o in outs) >= sum(lengths) - rows   # same work (+-EOS)
    print(json.dumps({"rows": rows, "vocab": vocab, "size": size, "decoded": sum(lengths),
                      "typed_s": round(times["typed"], 3), "free_s": round(times["free"], 3),
                      "typed_vs_free": round(times["typed"] / times["free"], 3)}))


if __name__ == "__main__":
    main()
