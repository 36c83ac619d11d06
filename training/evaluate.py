"""Held-out accuracy of the built-in model, per task family, through the real engine.

``python -m training.evaluate --data DIR [--model DIR]``, from the repo root (``--model``: the
shipped model by default).

Why through the engine: the figures must describe what a query gets, so every prompt goes
through ``executor.engine.Engine`` exactly as the SQL functions send it (chat template,
constrained choices for yes/no and labels, greedy decoding to EOS for free text). Held-out
examples come from the held-out pools of ``data.py`` (unseen names, cities, nouns, movies and
products), and any example whose fields also occur in a training prompt is dropped, so every
text scored is one the model never saw.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
from collections import defaultdict
from pathlib import Path

from infersql.builtin_model import MODEL_DIR

from . import data, tasks

log = logging.getLogger("training.evaluate")

EVAL_SEED = 20_261_129          # far from any training seed
TRAINING_ARGS = "training_args.json"


def _fields(ex: tasks.Example) -> str:
    """The part of a prompt that carries the row's text: its ``name: value`` lines."""
    lines = ex.prompt.rstrip("\n").split("\n")[1:]
    return "\n".join(lines[:-1] if ex.choices else lines)


def training_fields(model_dir: Path, data_dir: str | None) -> set[str]:
    """Field blocks of every training prompt, regenerated from the run's recorded seed."""
    path = model_dir / TRAINING_ARGS
    if not path.exists():
        return set()
    args = json.loads(path.read_text())
    rng = random.Random(args["seed"])
    train_pool, _ = data.pools(data_dir)
    return {_fields(e) for e in tasks.training_examples(rng, train_pool, args["examples"],
                                                         args.get("copy_first", 0.0))}


def _draw(task: str, k: int) -> random.Random:
    """The generator of the ``k``-th candidate of ``task``: its own seed, so that dropping an
    example (because one run trained on its fields) leaves every other example as it was, and
    two runs are scored on the same list wherever neither trained on it."""
    return random.Random(f"{EVAL_SEED}/{task}/{k}")


def held_out(data_dir: str | None, per_family: int, seen: set[str]) -> list[tasks.Example]:
    """``per_family`` unseen examples of each family, its tasks in equal shares (not in the
    training mix, which changes between recipes: the figures stay comparable), then as many
    real reviews for the two sentiment tasks."""
    _, pool = data.pools(data_dir)
    out: list[tasks.Example] = []
    for family, generators in tasks.GENERATORS.items():
        synthetic = [g for g, _ in generators if not tasks.needs_rows(g)]
        for i, task in enumerate(synthetic):
            share = per_family // len(synthetic) + (i < per_family % len(synthetic))
            k = kept = 0
            while kept < share:
                ex = task(_draw(f"{family}/{task.__name__}", k), pool)
                k += 1
                if _fields(ex) not in seen:
                    out.append(ex)
                    kept += 1
    real = [g for fam in tasks.GENERATORS.values() for g, _ in fam if tasks.needs_rows(g)]
    if pool.movie_reviews:
        for k in range(per_family):
            task = real[k % len(real)]
            ex = task(_draw(f"real/{task.__name__}", k), pool)
            if _fields(ex) not in seen:
                out.append(ex)
    return out


def score(model_dir: Path, examples: list[tasks.Example]) -> list[str]:
    from executor.engine import Engine, EngineConfig, Request

    engine = Engine(EngineConfig(model=str(model_dir)))
    reqs = [Request(prompt=e.prompt, chat=True, max_tokens=32,
                    choices=list(e.choices) if e.choices else None) for e in examples]
    return [o.text.strip() for o in engine.generate(reqs)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(MODEL_DIR))
    ap.add_argument("--data", type=data.data_folder,
                    help="the data folder used in training (adds real reviews)")
    ap.add_argument("--per-family", type=int, default=1000,
                    help="examples per family (1,000: a standard error near 1 point at 85%%)")
    ap.add_argument("--show-errors", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    model_dir = Path(args.model)
    examples = held_out(args.data, args.per_family, training_fields(model_dir, args.data))
    answers = score(model_dir, examples)
    by_family, by_task = defaultdict(list), defaultdict(list)
    errors = []
    for ex, got in zip(examples, answers):
        ok = got == ex.answer
        row = "real reviews" if ex.task == "real_sentiment" else ex.family
        by_family[row].append(ok)
        by_task[f"{ex.family}/{ex.task}"].append(ok)
        if not ok:
            errors.append((ex, got))
    print("| family | held-out examples | accuracy |\n|---|---|---|")
    for name, oks in by_family.items():
        print(f"| {name} | {len(oks)} | {100 * sum(oks) / len(oks):.1f}% |")
    print("\n| task | examples | accuracy |\n|---|---|---|")
    for name, oks in sorted(by_task.items()):
        print(f"| {name} | {len(oks)} | {100 * sum(oks) / len(oks):.1f}% |")
    for ex, got in errors[:args.show_errors]:
        print(f"\n--- {ex.task}: expected {ex.answer!r}, got {got!r}\n{ex.prompt}")


if __name__ == "__main__":
    main()
