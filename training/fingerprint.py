"""One SHA-256 over everything the training run draws before its first step.

``python -m training.fingerprint --data DIR`` (from the repo root) prints it for the shipped
run's arguments (its ``training_args.json``).

Why: retraining takes half an hour, so a change to the recipe that must not change the weights
(a refactor, a move) is checked by what it feeds the run instead. The run's weights follow from
its training examples, the tokenizer's corpus, the in-run check's examples and the generator's
state after them (the batch order is drawn next), at a given ``--threads`` and library
versions; the held-out list of ``evaluate.py`` decides which figures compare. If all of these
hash the same before and after a change, the one command writes the same files.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from infersql.builtin_model import MODEL_DIR

from . import evaluate, tasks, train

HELD_OUT_PER_FAMILY = 1000      # evaluate.py's default: the list the published figures are on


def _line(value) -> bytes:
    """One JSON line: items cannot run into each other, whatever their text."""
    return (json.dumps(value, ensure_ascii=False) + "\n").encode()


def _example(e: tasks.Example) -> bytes:
    return _line([e.family, e.task, e.prompt, e.answer, list(e.choices) if e.choices else None])


def fingerprint(data_dir: str | None, seed: int, examples: int, copy_first: float,
                per_family: int = HELD_OUT_PER_FAMILY) -> str:
    """The hex SHA-256 of a run of ``train.main`` with these arguments, and of the held-out
    list that ``evaluate.py`` scores it on."""
    rng = random.Random(seed)
    drawn, check = train.draw(rng, data_dir, examples, copy_first)
    h = hashlib.sha256()
    for e in drawn:
        h.update(_example(e))
    for text in train.vocabulary_texts(drawn):
        h.update(_line(text))
    for e in (e for items in check.values() for e in items):
        h.update(_example(e))
    h.update(_line(rng.getstate()[1]))
    seen = {evaluate._fields(e) for e in drawn}
    for e in evaluate.held_out(data_dir, per_family, seen):
        h.update(_example(e))
    return h.hexdigest()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="the benchmark tables' folder, as given to training")
    ap.add_argument("--model", default=str(MODEL_DIR),
                    help="a model folder whose training_args.json gives the run's arguments")
    args = ap.parse_args(argv)
    run = json.loads((Path(args.model) / evaluate.TRAINING_ARGS).read_text())
    if run["data"] != bool(args.data):
        ap.error(f"that run was trained {'with' if run['data'] else 'without'} --data")
    print(fingerprint(args.data, run["seed"], run["examples"], run["copy_first"]))


if __name__ == "__main__":
    main()
