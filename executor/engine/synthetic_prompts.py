"""Synthetic prompts with a query's prefix shape, for projecting work no real run can reach.

Why: the scale-out projection (``simulate_workers``) is asked about 100,000 rows on 8 to 64
workers; what decides its answer is the shape of the prompts' prefix trie, not their words.
The movies query has that shape: one instruction, then per movie an info prefix (~200 tokens)
shared by all its reviews, then the review (60-150 tokens). Reviews per movie are skewed: a
few movies have hundreds, most a few dozen.

Token ids are random, drawn from ids 1-255: CPython keeps one object per small int, so 100,000
prompts of ~330 tokens cost only their list pointers (about 270 MB), and two random reviews
share a first token or two, as real reviews starting with "The" do. A shape read from a real
table (``bench/scale_bench.py --data``) replaces the default lengths and group sizes by the
table's own.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["PrefixShape", "synthetic_prompts"]

VOCAB = 256            # ids 1..255: every token is a cached small int


@dataclass(frozen=True)
class PrefixShape:
    """How prompts share prefixes: ``instruction`` tokens common to all, then per group (a
    movie) a prefix of a length drawn from ``group_prefix``, then per row (a review) a suffix
    of a length drawn from ``row_suffix``. Rows per group are drawn from ``group_sizes`` if
    given (a real table's counts), else log-normal with ``group_median`` and ``group_sigma``
    (the spread of log sizes), at most ``max_group``."""

    instruction: int = 20
    group_prefix: tuple[int, ...] = tuple(range(160, 241))
    row_suffix: tuple[int, ...] = tuple(range(60, 151))
    group_median: float = 23.0
    group_sigma: float = 1.0
    max_group: int = 400
    group_sizes: tuple[int, ...] = ()

    def group_size(self, rng: random.Random) -> int:
        if self.group_sizes:
            return rng.choice(self.group_sizes)
        size = round(self.group_median * math.exp(rng.gauss(0.0, self.group_sigma)))
        return max(1, min(self.max_group, size))


def synthetic_prompts(rows: int, shape: PrefixShape = PrefixShape(), seed: int = 0,
                      order: str = "shuffled") -> list[list[int]]:
    """``rows`` prompts (token ids) of ``shape``. ``order`` is the table order: ``shuffled``
    (rows of a movie scattered, as in a table not clustered on the prompt's leading fields) or
    ``clustered`` (a movie's rows together, as in movies.csv, which is sorted by movie)."""
    if order not in ("shuffled", "clustered"):
        raise ValueError(f"synthetic_prompts: order must be 'shuffled' or 'clustered', not {order!r}")
    rng = random.Random(seed)
    pool = rng.choices(range(1, VOCAB), k=1 << 16)

    def tokens(n: int) -> list[int]:
        """Random tokens: four drawn afresh, so that no two lists share more than a token or
        two by chance, then a slice of ``pool`` at a random offset (fast)."""
        lead = rng.choices(range(1, VOCAB), k=min(n, 4))
        start = rng.randrange(len(pool) - n)
        return lead + pool[start:start + n - len(lead)]

    instruction = tokens(shape.instruction)
    prompts: list[list[int]] = []
    while len(prompts) < rows:
        head = instruction + tokens(rng.choice(shape.group_prefix))
        for _ in range(min(shape.group_size(rng), rows - len(prompts))):
            prompts.append(head + tokens(rng.choice(shape.row_suffix)))
    if order == "shuffled":
        rng.shuffle(prompts)
    return prompts
