"""The built-in model's recipe: word lists, example generators, tokenizer fitting, training,
evaluation, and the fingerprint that checks a change of the recipe keeps the weights.

Why a top-level folder, not part of the package: a user of InferSQL needs the weights, not the
half hour of training that makes them, so the wheel ships only ``infersql/builtin_model``
(weights, tokenizer, model card). Run the recipe from a clone's root, for example
``python -m training.train --data DIR --out DIR``; see README.md here.
"""
