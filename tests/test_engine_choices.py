"""Constrained answers: the chosen one has the highest total log-probability under the model,
checked against full forward passes of the HF model."""
from __future__ import annotations

from executor.engine import Engine, EngineConfig, Request
from tests import hf_oracle

PROMPTS = ["Is this review positive? The movie was great.", "Classify the sentiment: broken and late.",
           "Which genre fits this film best?", "The score is written for piano", "yes no"]


def _best_by_hf(path, tok, prompt, choices):
    ids = tok(prompt).input_ids
    scores = [hf_oracle.sequence_logprob(path, ids, tok.encode(c, add_special_tokens=False))
              for c in choices]
    return choices[max(range(len(choices)), key=lambda i: (scores[i], -i))]


def test_multi_token_choices_scored_on_every_token(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20, block_size=8))
    tok = engine.tokenizer
    labels = ["positive", "negative", "neutral", "drama", "a documentary about piano"]
    assert all(len(tok.encode(l, add_special_tokens=False)) > 1 for l in labels[:3])
    outs = engine.generate([Request(prompt=p, choices=labels) for p in PROMPTS])
    for p, out in zip(PROMPTS, outs):
        assert out.text == _best_by_hf(tiny_model, tok, p, labels)
        assert out.token_ids == tok.encode(out.text, add_special_tokens=False)
        assert out.finish_reason == "stop"


def test_single_token_choices_take_one_pass(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))
    tok = engine.tokenizer
    yes_no = ["yes", "no"]
    assert all(len(tok.encode(c, add_special_tokens=False)) == 1 for c in yes_no)
    outs = engine.generate([Request(prompt=p, choices=yes_no) for p in PROMPTS])
    assert [o.text for o in outs] == [_best_by_hf(tiny_model, tok, p, yes_no) for p in PROMPTS]
    assert engine.stats.iterations == 1
    assert engine.stats.decoded_tokens == 0


def test_choices_mixed_with_generation_in_one_batch(tiny_model):
    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20, max_batch_tokens=16))
    tok = engine.tokenizer
    reqs = [Request(prompt=PROMPTS[0], choices=["good film", "bad film"]),
            Request(prompt=PROMPTS[1], max_tokens=5),
            Request(prompt=PROMPTS[0], choices=["bad film", "good film"])]
    a, b, c = engine.generate(reqs)
    assert a.text == c.text == _best_by_hf(tiny_model, tok, PROMPTS[0], ["good film", "bad film"])
    assert b.token_ids == hf_oracle.greedy(tiny_model, tok(PROMPTS[1]).input_ids, 5)
