"""At a small KV cache, a planned query computes each distinct prompt token about once.

The workload has the benchmark movies table's prefix shape, built synthetically
(``movie_like.py``): a shared instruction, then ~200 tokens of a movie's title and description
shared by all of its reviews, then the review; rows shuffled, and put in depth-first trie order
as the optimizer does. The bound is the prompts' trie size (every distinct prefix token once).
At 4,096 tokens a cache holds the current movie's prefix plus a batch in flight, so the bound
is reachable; the counters must add up exactly (``test_token_counts.py``).
"""
from __future__ import annotations

import random

import pytest

import infersql
from executor.engine import EngineConfig
from executor.engine.geometry import bytes_per_block, read_geometry
from executor.engine.simulator import simulate
from executor.prefix_sharing import prefix_sorted, trie_tokens
from infersql.demo_model import default_model_path
from tests.movie_like import create_reviews_table, movie_reviews
from tests.test_token_counts import assert_counts_add_up

FILTER = ("SELECT title FROM r WHERE LLM_FILTER('Does the critic recommend the film?', "
          "title, info, review)")


def _kv_bytes(path: str, tokens: int) -> int:
    return tokens // 16 * bytes_per_block(read_geometry(path), 16, "float32")


def _movie_prompts(seed: int) -> list[list[int]]:
    """Token ids of 1,213 reviews of 26 movies (two with about 300 reviews, as in the movies
    table): a 14-token instruction, a 180-220 token movie prefix, a 10-60 token review."""
    rng = random.Random(seed)
    instruction = [rng.randrange(1, 4000) for _ in range(14)]
    sizes = [309, 347] + [23] * 24 + [5]
    prompts = []
    for size in sizes:
        movie = instruction + [rng.randrange(1, 4000) for _ in range(rng.randint(180, 220))]
        prompts += [movie + [rng.randrange(1, 4000) for _ in range(rng.randint(10, 60))]
                    for _ in range(size)]
    return [prompts[i] for i in prefix_sorted(prompts)]


@pytest.mark.parametrize("kv_tokens", [2048, 4096, 8192])
def test_simulated_filter_prefills_the_bound_at_a_small_cache(kv_tokens):
    path = str(default_model_path())
    prompts = _movie_prompts(0)
    config = EngineConfig(model=path, kv_cache_bytes=_kv_bytes(path, kv_tokens))
    stats = simulate(config, prompts, [1] * len(prompts),
                     choices=[[[5], [6]]] * len(prompts)).stats
    assert stats.prefilled_tokens <= 1.01 * trie_tokens(prompts), stats
    assert_counts_add_up(stats)


def _planned_filter(kv_tokens: int, sql: str, reviews: list[int], **shape):
    """Run ``sql`` over synthetic reviews with the built-in model and a KV cache of
    ``kv_tokens``; the statement's counters and the bound of the prompts the engine got."""
    path = str(default_model_path())
    with infersql.connect(kv_cache_bytes=_kv_bytes(path, kv_tokens)) as conn:
        create_reviews_table(conn, movie_reviews(reviews, **shape))
        engine, sent = conn.engine, []
        generate = engine.generate

        def spy(requests, **kw):
            sent.extend(r.prompt_ids for r in requests)
            return generate(requests, **kw)

        engine.generate = spy
        cur = conn.cursor()
        cur.execute(sql).fetchall()
        return cur.stats, trie_tokens(sent)


def test_planned_filter_on_the_builtin_model_reaches_the_bound_at_4096_tokens():
    """The target is 1.05x the bound; the engine reaches the bound, so the test holds it to 1%
    (before cache-aware admission this shape took 1.04x, and the movies table 1.06x)."""
    stats, bound = _planned_filter(4096, FILTER, [40] * 4 + [10] * 30, info_words=130,
                                   review_words=(3, 20))
    assert stats.llm_calls == 460
    assert stats.prefilled_tokens <= 1.01 * bound, (stats, bound)
    assert_counts_add_up(stats)


def test_classify_children_find_their_prompt_cached_at_a_small_cache():
    """Each multi-token label re-reads its prompt; with the cache at about half of the
    distinct prefixes, the prompt must still be resident when they run."""
    sql = ("SELECT LLM_CLASSIFY('What does the critic think?', "
           "['recommends', 'does not recommend', 'undecided'], title, info, review) FROM r")
    stats, bound = _planned_filter(2600, sql, [20] * 20, info_words=120, review_words=(5, 30))
    assert stats.llm_calls == 400
    assert stats.prefilled_tokens <= 1.05 * bound, (stats, bound)
    assert stats.decoded_tokens > 0      # the labels' later tokens were scored
    assert_counts_add_up(stats)
