"""The built-in model: a small Llama trained to answer InferSQL's own prompts.

It ships inside the package (``model/``, a Hugging Face folder) so that ``infersql.connect()``
gives real answers with nothing downloaded. README.md here is its model card; the recipe that
rebuilds it lives in the repository's ``training/`` folder, which is not installed.
"""
from __future__ import annotations

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"
