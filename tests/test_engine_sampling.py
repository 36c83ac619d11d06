"""Sampling options: seeded temperature sampling, top-p, stop strings, max_tokens, EOS."""
from __future__ import annotations

import pytest

from executor.engine import Engine, EngineConfig, Request
from tests import hf_oracle


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20))


PROMPT = "The taste is bitter, malty and"


def test_seeded_sampling_is_reproducible_and_batch_independent(engine):
    solo = engine.generate([Request(prompt=PROMPT, max_tokens=12, temperature=1.5, seed=7)])[0]
    crowd = engine.generate([Request(prompt="other text", max_tokens=5),
                             Request(prompt=PROMPT, max_tokens=12, temperature=1.5, seed=7),
                             Request(prompt=PROMPT, max_tokens=12, temperature=1.5, seed=8)])
    assert crowd[1].token_ids == solo.token_ids
    assert crowd[2].token_ids != solo.token_ids


def test_temperature_departs_from_greedy(engine, tiny_model):
    greedy = hf_oracle.greedy(tiny_model, engine.tokenizer(PROMPT).input_ids, 12)
    sampled = {tuple(engine.generate([Request(prompt=PROMPT, max_tokens=12, temperature=2.0,
                                              seed=s, ignore_eos=True)])[0].token_ids) for s in range(4)}
    assert any(list(s) != greedy for s in sampled)


def test_tiny_top_p_is_greedy(engine, tiny_model):
    out = engine.generate([Request(prompt=PROMPT, max_tokens=10, temperature=1.0, top_p=1e-6, seed=3)])[0]
    assert out.token_ids == hf_oracle.greedy(tiny_model, engine.tokenizer(PROMPT).input_ids, 10)


def test_stop_string_truncates_text(engine):
    full = engine.generate([Request(prompt=PROMPT, max_tokens=12, ignore_eos=True)])[0]
    stop = full.text[3:6]
    assert stop and stop in full.text
    out = engine.generate([Request(prompt=PROMPT, max_tokens=12, ignore_eos=True, stop=[stop])])[0]
    assert out.finish_reason == "stop"
    assert out.text == full.text[:full.text.find(stop)]
    assert len(out.token_ids) < len(full.token_ids)


def test_max_tokens_and_ignore_eos(engine):
    outs = engine.generate([Request(prompt=PROMPT, max_tokens=n, ignore_eos=True) for n in (1, 7, 30)])
    assert [len(o.token_ids) for o in outs] == [1, 7, 30]
    assert all(o.finish_reason == "length" for o in outs)


def test_progress_and_on_result_report_every_request(engine):
    seen, calls = [], []
    reqs = [Request(prompt=PROMPT, max_tokens=n) for n in (1, 4, 2)]
    outs = engine.generate(reqs, progress=lambda d, t: calls.append((d, t)),
                           on_result=lambda i, o: seen.append((i, o)))
    assert sorted(i for i, _ in seen) == [0, 1, 2]
    assert all(outs[i] == o for i, o in seen)
    assert calls[-1] == (3, 3)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_chat_prompt_uses_the_template_when_there_is_one(tiny_model):
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=tiny_model, kv_cache_bytes=1 << 20))
    tok = engine.tokenizer
    plain = engine.generate([Request(prompt="hi there", max_tokens=1, chat=True)])[0]
    assert plain.prompt_tokens == len(tok("hi there").input_ids)      # no template: raw text
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n"
                         "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    out = engine.generate([Request(prompt="hi there", max_tokens=1, chat=True)])[0]
    assert out.prompt_tokens == len(tok("<|user|>hi there\n<|assistant|>").input_ids)


def test_stop_string_at_the_start_gives_empty_text(engine):
    full = engine.generate([Request(prompt=PROMPT, max_tokens=8, ignore_eos=True)])[0]
    first = full.text[:2]
    assert first.strip()
    out = engine.generate([Request(prompt=PROMPT, max_tokens=8, ignore_eos=True, stop=[first])])[0]
    assert out.finish_reason == "stop" and out.text == ""
