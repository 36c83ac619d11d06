"""Field order against GGR: the prefix hit rate of ``field_order := 'auto'`` on the LLM-SQL
paper's tables, every column in the CSV's order, prompts rendered and tokenized as InferSQL
renders and tokenizes them (instruction, ``name: value`` lines, the filter's hint, the chat
template).

Columns, each a prefix hit rate in prompt tokens (1 - tokens computed / tokens in all prompts,
every distinct prompt once):
- ``written``: the CSV's order, rows in depth-first (token id) order, as the plan runs them;
- ``auto``: the orders the optimizer chooses (``optimizer.rules.prefix_order``), same row order;
- ``GGR``: GGR's orders and GGR's own row order, hits counted against the previous prompt only
  (the paper's PHR; Liu et al., arXiv 2403.05821, Algorithm 1, no functional dependencies);
- ``GGR sorted``: GGR's orders, rows in depth-first order (GGR's orders at their best);
- ``bound``: no field order shares more: the template and instruction leading every prompt
  and every repeat of a field's line read from the cache, over the prompts' real tokens.

    python bench/field_order_bench.py --data ../shared/data [--tokenizer MODEL_FOLDER_OR_GGUF]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

from common import DEFAULT_DATA, load_rows, machine  # noqa: E402 - common puts the repo on sys.path

from executor.engine.prefix_keys import common_prefix
from executor.engine.requests_prep import encode_prompts
from executor.field_orders import FieldOrders, ggr_score, group_orders, value_text
from executor.llm_call import LLMCall
from executor.prefix_sharing import hit_rate
from optimizer.rules.prefix_order import _LineTokens, best_field_orders

TABLES = ("movies", "products", "beer", "pdmx")
INSTRUCTION = "Does this record satisfy the analyst's question? Read every field."


def ggr_row_order(rows: list[tuple], orders: FieldOrders) -> list[int]:
    """GGR's output order: a group's rows together, groups in the order the recursion took
    them, the rest last, as the paper's algorithm emits them."""
    def path(row, node: FieldOrders) -> tuple:
        for g, (f, text, then) in enumerate(node.groups):
            if value_text(row[f]) == text:
                return (g, *path(row, then))
        return (len(node.groups), tuple(value_text(row[f]) for f in node.leaf))
    return sorted(range(len(rows)), key=lambda i: path(rows[i], orders))


def adjacent_rate(ids: list[list[int]]) -> float:
    """The paper's PHR: tokens each prompt shares with the one right before it."""
    total = sum(map(len, ids))
    return sum(common_prefix(a, b) for a, b in zip(ids, ids[1:])) / total if total else 0.0


def token_bound(values: list[tuple], ids: list[list[int]], length) -> float:
    """No field order shares more: the chat template and instruction that lead every prompt,
    and every repeat of a field's line, read from the cache; over the prompts' real tokens."""
    lead = min(common_prefix(ids[0], other) for other in ids) if len(ids) > 1 else 0
    repeats = sum((c - 1) * length(f, t) for f in range(len(values[0]))
                  for t, c in Counter(value_text(v[f]) for v in values).items())
    return (lead * (len(ids) - 1) + repeats) / sum(map(len, ids))


def measure(table: str, rows: list[dict], tokenizer) -> dict:
    names = tuple(rows[0])
    values = list(dict.fromkeys(tuple(r[n] for n in names) for r in rows))
    call = LLMCall("filter", "bench", INSTRUCTION, names)

    def token_ids(orders: FieldOrders | None, order: list[int] | None = None) -> list[list[int]]:
        variant = LLMCall("filter", "bench", INSTRUCTION, names, field_orders=orders)
        picked = values if order is None else [values[i] for i in order]
        return encode_prompts(tokenizer, [variant.render(list(v)) for v in picked], chat=True)

    started = time.perf_counter()
    choice = best_field_orders(call, values, tokenizer)
    seconds = time.perf_counter() - started
    length = _LineTokens(call, tokenizer, values)
    ggr = group_orders(values, length.chars, ggr_score)
    written = token_ids(None)
    return {"table": table, "rows": len(values), "fields": len(names),
            "written": hit_rate(written), "auto": hit_rate(token_ids(choice.orders)),
            "GGR": adjacent_rate(token_ids(ggr, ggr_row_order(values, ggr))),
            "GGR sorted": hit_rate(token_ids(ggr)), "bound": token_bound(values, written, length),
            "groups": choice.orders.count_groups(), "choose_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding the paper's CSVs")
    ap.add_argument("--tokenizer", default=None,
                    help="a model folder (default: the built-in model's), or a .gguf file")
    args = ap.parse_args()
    from transformers import AutoTokenizer

    from infersql.builtin_model import MODEL_DIR
    path = args.tokenizer or str(MODEL_DIR)
    if path.endswith(".gguf"):
        import os
        tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(path) or ".",
                                                  gguf_file=os.path.basename(path))
    else:
        tokenizer = AutoTokenizer.from_pretrained(path)
    print(f"machine: {machine()}\ntokenizer: {path}")
    print(f"{'table':9} {'rows':>5} {'fields':>6} {'written':>8} {'auto':>6} {'GGR':>6} "
          f"{'GGR sorted':>10} {'bound':>6} {'auto/GGR':>8} {'groups':>6} {'choose s':>8}")
    for table in TABLES:
        r = measure(table, load_rows(args.data, table), tokenizer)
        print(f"{r['table']:9} {r['rows']:>5} {r['fields']:>6} {r['written']:>8.3f} "
              f"{r['auto']:>6.3f} {r['GGR']:>6.3f} {r['GGR sorted']:>10.3f} {r['bound']:>6.3f} "
              f"{r['auto'] / r['GGR']:>8.3f} {r['groups']:>6} {r['choose_s']:>8.2f}")


if __name__ == "__main__":
    main()
