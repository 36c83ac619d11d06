"""Built-in model: "does the text mention X" over everyday sentences, models side by side.

``python bench/builtin_model_probe.py --model /tmp/candidate`` (shipped model beside it)

Why: ``training/evaluate.py`` scores held-out words in sentences drawn from the training generators, so
it cannot show a model that learned where the templates put a noun rather than the match
itself. These ten sentences are written by hand, unlike any training template, with four
questions each over nouns of both splits (some present, some not, one present only as a plural
or a verb's stem: "it snowed" does not mention snow). Every question goes through
``LLM_FILTER`` as a query would. It takes a few seconds per model on two cores.
"""
from __future__ import annotations

import argparse

import common  # noqa: F401  (puts the repository on sys.path: training/ is not installed)
import infersql
from infersql.builtin_model import MODEL_DIR
from training.tasks import _article

CASES = [
    ("The children fed the ducks at the pond.", {"duck": 1, "pond": 1, "horse": 0, "piano": 0}),
    ("Grandma baked an apple pie for the whole street.", {"apple": 1, "pie": 1, "cat": 0, "boat": 0}),
    ("A fox slipped under the fence and stole two eggs.", {"fox": 1, "egg": 1, "dog": 0, "river": 0}),
    ("The pilot waved from the cockpit before takeoff.", {"pilot": 1, "plane": 0, "tiger": 0, "cheese": 0}),
    ("We listened to the old radio while it snowed.", {"radio": 1, "snow": 0, "guitar": 0, "bird": 0}),
    ("Her cat knocked a vase off the shelf last night.", {"cat": 1, "vase": 1, "shelf": 1, "dog": 0}),
    ("Nobody could find the keys to the truck.", {"key": 1, "truck": 1, "bicycle": 0, "lemon": 0}),
    ("The farmer counted his sheep twice.", {"farmer": 1, "sheep": 1, "cow": 0, "robot": 0}),
    ("My uncle lost his umbrella on the bus again.", {"umbrella": 1, "bus": 1, "train": 0, "hat": 0}),
    ("A dog chased the ball across the wet grass.", {"dog": 1, "cat": 0, "ball": 1, "snake": 0}),
]


def answers(model: str) -> list[bool]:
    """Whether each question of ``CASES`` was answered right, in order."""
    out = []
    with infersql.connect(model=model) as conn:
        for text, questions in CASES:
            for noun, present in questions.items():
                q = f"Does the text mention {_article(noun)} {noun}?"
                got = conn.execute("SELECT LLM_FILTER(?, text) FROM (VALUES (?)) v(text)", [q, text]).fetchone()[0]
                out.append(got == bool(present))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[], help="a model folder (repeatable)")
    args = ap.parse_args()
    models = [str(MODEL_DIR)] + args.model
    results = {m: answers(m) for m in models}
    print("| sentence | " + " | ".join(f"model {i}" for i in range(len(models))) + " |")
    print("|---|" + "---:|" * len(models))
    start = 0
    for text, questions in CASES:
        end = start + len(questions)
        cells = [f"{sum(r[start:end])}/{len(questions)}" for r in results.values()]
        print(f"| {text} | " + " | ".join(cells) + " |")
        start = end
    print(f"| **right, of {start}** | " + " | ".join(f"**{sum(r)}**" for r in results.values()) + " |")
    for i, m in enumerate(models):
        print(f"model {i}: {m}" + (" (shipped)" if i == 0 else ""))


if __name__ == "__main__":
    main()
