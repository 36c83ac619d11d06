"""Routing by prefix: a sorted request list cut into contiguous per-worker shares of whole
subtrees. Checked on prompts whose trie is known by construction: groups (movies) of rows under
one instruction, each group a prefix of its own."""
from __future__ import annotations

import random

import pytest

from executor.engine.routing import neighbour_prefixes, request_costs, route
from executor.engine.synthetic_prompts import PrefixShape, synthetic_prompts
from executor.prefix_sharing import trie_tokens

INSTRUCTION = [1, 2, 3, 4, 5]


def grouped(sizes: list[int], prefix: int = 40, suffix: int = 10, seed: int = 0,
            genre: int = 0):
    """Prompts in trie order: group g is ``sizes[g]`` rows sharing the instruction and a
    ``prefix``-token group prefix, each row then ``suffix`` tokens of its own. With ``genre``,
    every ``genre`` groups also share a token after the instruction (a level between the
    instruction and the groups). Returns the prompts and the index where each group starts."""
    rng = random.Random(seed)
    prompts, starts = [], []
    for g, size in enumerate(sizes):
        head = (INSTRUCTION + ([g // genre] if genre else []) + [1000 + g]
                + [rng.randrange(10, 99) for _ in range(prefix - 1)])
        starts.append(len(prompts))
        prompts += [head + [100 + r] + [rng.randrange(10, 99) for _ in range(suffix - 1)]
                    for r in range(size)]
    assert prompts == sorted(prompts)
    return prompts, starts


def flat(shares) -> list[int]:
    return [i for s in shares for i in s.indexes()]


def starts_of(shares) -> list[int]:
    """Index of the first request of each non-empty share but the first: the cuts."""
    return [s.units[0].start for s in shares[1:] if s.units]


@pytest.mark.parametrize("workers", [1, 2, 3, 8, 64])
def test_shares_are_contiguous_and_cover_every_request_once(workers):
    prompts = synthetic_prompts(3000, PrefixShape(group_prefix=(30, 60), row_suffix=(5, 20)),
                                seed=workers)
    prompts.sort()
    shares = route(prompts, workers)
    assert [s.worker for s in shares] == list(range(workers))
    assert flat(shares) == list(range(len(prompts)))           # in order, each once
    for share in shares:
        for a, b in zip(share.units, share.units[1:]):
            assert a.stop == b.start                            # contiguous within a share
        assert all(len(u) > 0 for u in share.units)


def test_one_worker_gets_everything_in_order():
    prompts, _ = grouped([5, 3, 9])
    (share,) = route(prompts, 1)
    assert share.indexes() == list(range(len(prompts)))
    assert share.cost == pytest.approx(sum(request_costs(prompts, neighbour_prefixes(prompts))))


def test_empty_input_gives_empty_shares():
    shares = route([], 4)
    assert [s.units for s in shares] == [[], [], [], []]
    assert all(s.requests == 0 and s.cost == 0 for s in shares)


def test_more_workers_than_requests_leaves_the_last_shares_empty():
    prompts, _ = grouped([1, 1, 1])
    shares = route(prompts, 8)
    assert flat(shares) == [0, 1, 2]
    assert [s.requests for s in shares] == [1, 1, 1, 0, 0, 0, 0, 0]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be at least 1"):
        route([[1, 2]], 0)


@pytest.mark.parametrize("workers", [2, 4, 8, 32])
def test_shares_balance_estimated_cost(workers):
    rng = random.Random(workers)
    prompts, _ = grouped([rng.randint(1, 30) for _ in range(300)], genre=4)
    shares = route(prompts, workers)
    mean = sum(s.cost for s in shares) / workers
    # A cut misses its balance point by at most half a unit plus the price of the prefix it
    # splits (the nearest boundary would cost no more), so a share, between two cuts, is
    # within one unit and two prefixes of the mean, although genre boundaries share less.
    unit = max(u.cost for s in shares for u in s.units)
    prefix = max(neighbour_prefixes(prompts))
    assert all(abs(s.cost - mean) <= unit + 2 * prefix for s in shares)
    assert unit + 2 * prefix < 0.2 * mean


def test_cuts_fall_between_groups_when_one_is_near():
    rng = random.Random(5)
    sizes = [rng.randint(2, 12) for _ in range(120)]
    prompts, starts = grouped(sizes)
    shared = neighbour_prefixes(prompts)
    for workers in (2, 3, 4, 8):
        cuts = starts_of(route(prompts, workers))
        assert len(cuts) == workers - 1
        assert set(cuts) <= set(starts)                    # never inside a group
        assert all(shared[c] == len(INSTRUCTION) for c in cuts)


def test_a_near_group_boundary_wins_over_the_exact_balance_point():
    # two groups of 53% and 47% of the work: the balance point lies inside the first, the
    # boundary 6% of a share away from it; cutting there keeps the first prefix on one worker
    prompts, starts = grouped([53, 47], prefix=200, suffix=20)
    shares = route(prompts, 2)
    assert starts_of(shares) == [starts[1]]
    assert shares[1].units[0].shared == len(INSTRUCTION)


def test_a_group_bigger_than_a_share_is_split_and_its_prefix_computed_once_per_part():
    prompts, starts = grouped([400, 20, 20], prefix=200, suffix=20)
    shares = route(prompts, 4)
    assert all(s.requests for s in shares)
    inside = [c for c in starts_of(shares) if c < starts[1]]
    assert len(inside) >= 2                                     # the big group spans workers
    prefix = len(INSTRUCTION) + 200
    shared = neighbour_prefixes(prompts)
    assert all(shared[c] >= prefix for c in inside)            # a cut inside: rows of one prefix
    # Each part computes the big group's prefix once: the shares' tries, summed, exceed the
    # one trie by what the neighbours at the cuts share, the prefix per extra part.
    per_share = sum(trie_tokens([prompts[i] for i in s.indexes()]) for s in shares)
    assert per_share - trie_tokens(prompts) == sum(shared[c] for c in starts_of(shares))
    costs = [s.cost for s in shares]
    assert max(costs) <= 1.2 * sum(costs) / 4


def test_cost_model_prices_the_prefill_and_decode():
    from executor.engine.cost_model import CostModel

    model = CostModel({"tokens": 1e-3, "prefill_chunks": 0.0, "decode_seqs": 5e-4})
    prompts, _ = grouped([3, 3])
    shared = neighbour_prefixes(prompts)
    costs = request_costs(prompts, shared, [2] * len(prompts), model)
    assert costs[0] == pytest.approx(1e-3 * len(prompts[0]) + 2 * 1.5e-3)
    assert costs[1] == pytest.approx(1e-3 * (len(prompts[1]) - shared[1]) + 2 * 1.5e-3)
