"""Per-row field orders (``field_order := 'auto'``): the rule every row follows, and that the
chosen orders share at least as much as GGR's and every fixed order, and no more than the
bound."""
from __future__ import annotations

import itertools
import random

from executor.field_orders import (FieldOrders, ggr_score, group_orders, line_hit_rate,
                                   sharing_bound, token_score)
from executor.llm_call import LLMCall
from optimizer.rules.prefix_order import _LineTokens, best_field_orders


def _reviews(seed: int = 5) -> list[tuple]:
    """(reviewtype, review, movieinfo): a few movies with many reviews and a long info, many
    movies with one review each; every review its own."""
    rng = random.Random(seed)
    words = "storm river letter garden mirror winter island train city night".split()
    rows = []
    for m in range(40):
        info = f"movie {m}: " + " ".join(rng.choice(words) for _ in range(40))
        for k in range(12 if m < 5 else 1):
            kind = rng.choice(["Fresh", "Fresh", "Rotten"])
            rows.append((kind, f"review {m}-{k} " + " ".join(rng.choice(words) for _ in range(5)),
                         info))
    rng.shuffle(rows)
    return rows


def _chars(field: int, text: str) -> int:
    return len(text) + 8


def test_a_row_follows_the_first_group_that_holds_its_value():
    inner = FieldOrders((0, 1), ((1, "x", FieldOrders((0,))),))
    orders = FieldOrders((0, 1, 2), ((2, "long", inner), (0, "Fresh", FieldOrders((1, 2)))))
    assert orders.order_of(("Fresh", "x", "long")) == (2, 1, 0)     # the first group wins
    assert orders.order_of(("Fresh", "y", "other")) == (0, 1, 2)
    assert orders.order_of(("Rotten", "y", "other")) == (0, 1, 2)   # no group: the leaf
    assert orders.order_of(("Rotten", "y", "long")) == (2, 0, 1)
    assert orders.order_of((None, "y", "long")) == (2, 0, 1)        # NULL is a value too
    assert orders.count_groups() == 3 and not orders.is_fixed


def test_equal_rows_get_equal_orders_and_every_order_is_a_permutation():
    rows = _reviews()
    orders = group_orders(rows, _chars, token_score)
    for row in rows + rows[:5]:
        order = orders.order_of(row)
        assert sorted(order) == [0, 1, 2]
        assert order == orders.order_of(tuple(row))
    # a movie with many reviews leads with its info; a one-review movie's row does not
    leads = {row[2]: orders.order_of(row)[0] for row in rows}
    big = {row[2] for row in rows if sum(r[2] == row[2] for r in rows) > 1}
    assert all(leads[info] == 2 for info in big)
    assert any(lead != 2 for info, lead in leads.items() if info not in big)


def test_chosen_orders_share_at_least_what_ggr_and_every_fixed_order_do():
    rows = list(dict.fromkeys(_reviews()))
    call = LLMCall("filter", "f(...)", "Recommend?", ("reviewtype", "review", "movieinfo"))
    choice = best_field_orders(call, rows, tokenizer=None)
    length = _LineTokens(call, None, rows)
    lead = length(-1, "Recommend?")
    ggr = line_hit_rate(rows, group_orders(rows, length.chars, ggr_score), length, lead)
    fixed = [line_hit_rate(rows, FieldOrders.fixed(p), length, lead)
             for p in itertools.permutations(range(3))]
    assert choice.hit_rate >= max(fixed + [ggr]) - 1e-12
    assert choice.ggr == ggr
    assert choice.bound >= choice.hit_rate
    assert choice.bound == sharing_bound(rows, length, lead)
    # per-row orders beat the best single order on this table
    assert choice.hit_rate > max(fixed) and not choice.orders.is_fixed


def test_line_hit_rate_counts_each_distinct_prefix_once():
    rows = [("a", "x"), ("a", "y"), ("b", "x")]
    one = lambda f, t: 1                                        # noqa: E731
    # prompts [a x] [a y] [b x]: 6 lines, the second row reads "a" from the first
    assert line_hit_rate(rows, FieldOrders.fixed((0, 1)), one) == 1 / 6
    # [x a] [x b] [y a]: the second reads "x" from the first
    assert line_hit_rate(rows, FieldOrders.fixed((1, 0)), one) == 1 / 6
    assert line_hit_rate(rows, FieldOrders.fixed((0, 1)), one, lead=2) == (2 * 2 + 1) / 12
    assert sharing_bound(rows, one) == 2 / 6
