"""EXPLAIN's estimates against EXPLAIN ANALYZE's actuals, with a calibrated cost model.

Calibrates the model (``infersql calibrate``) into a fresh database, loads 400 shuffled movie
reviews (fields clipped to fit the built-in model's 1,024-token context), and runs EXPLAIN
(ANALYZE, FORMAT JSON) on a filter and on an ORDER BY ... LIMIT projection. For each operator
it prints estimated / actual calls, prompt tokens, prefix-cached tokens and seconds.

    python bench/explain_accuracy.py --data ../shared/data [--model FOLDER_OR_GGUF]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

from common import DEFAULT_DATA, REVIEW_FILTER, calibrate_into, create_review_table, machine

QUERIES = [
    REVIEW_FILTER,
    "SELECT title, LLM('Summarize the review.', review, max_tokens := 8) FROM r ORDER BY title LIMIT 40",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--model", default=None, help="model folder or GGUF file (default: the "
                    "built-in model)")
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3,
                    help="calibration times each forward pass this many times, keeps the fastest")
    args = ap.parse_args()
    import infersql

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "explain.duckdb")
        calibrate_into(db, args.model, args.repeats)
        with infersql.connect(db, model=args.model) as conn:
            create_review_table(conn, args.data, args.rows)
            conn.engine                                  # loaded before anything is timed
            print(f"\n{machine()}\n")
            print("| operator | calls est/actual | prompt tokens est/actual | cached est/actual | seconds est/actual | ratio |")
            print("|---|---|---|---|---|---:|")
            for sql in QUERIES:
                doc = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchone()[0])
                for op in doc["scopes"][0]["operators"]:
                    e, a = op["estimate"], op["actual"]
                    print(f"| {op['operator']} | {e['distinct'] - e['cache_hits']}/{a['llm_calls']} | "
                          f"{e['prompt_tokens']}/{a['prompt_tokens']} | {e['cached_tokens']}/{a['cached_tokens']} | "
                          f"{e['seconds']:.3f}/{a['seconds']:.3f} | {e['seconds'] / a['seconds']:.2f} |")


if __name__ == "__main__":
    main()
