"""The built-in model: a small Llama trained here to answer InferSQL's own prompts.

It ships inside the package (``model/``, a Hugging Face folder) so that ``infersql.connect()``
gives real answers with nothing downloaded. ``train.py`` rebuilds it, ``evaluate.py`` measures
it on held-out texts; see README.md in this folder.
"""
from __future__ import annotations

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"
