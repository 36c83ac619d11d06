"""Per-step cost of grammar-constrained decoding for a batch of rows: filling every row's token
bitmask (one ``BatchGrammarMatcher`` call) and applying it to the logits, the two things
``Postprocessor._sample`` adds for rows with a ``json_schema``.

Why: DESIGN.md measured that the fill is cheap and the apply is memory-bound; this re-measures
both through the engine's own backend. The random model's tokenizer has a few hundred real
tokens (the rest of ``--vocab`` is padding), so the fill time here is a lower bound; the apply
time scales with ``--vocab`` as it would for a real model.

    PYTHONPATH=. python bench/grammar_bench.py --rows 256 --vocab 49152
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
