"""Random prompts in groups that share a prefix: the policy and counter tests' workload."""
from __future__ import annotations

import random


def grouped_prompts(seed: int, n: int, lo: int, hi: int, groups: int = 3,
                    shared: int = 12) -> list[list[int]]:
    """``n`` prompts: one of ``groups`` random prefixes of ``shared`` tokens, then ``lo`` to
    ``hi`` random tokens of their own."""
    rng = random.Random(seed)
    prefixes = [[rng.randrange(1, 500) for _ in range(shared)] for _ in range(groups)]
    return [rng.choice(prefixes) + [rng.randrange(1, 500) for _ in range(rng.randint(lo, hi))]
            for _ in range(n)]
