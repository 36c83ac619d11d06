"""``INFERSQL_HOME``: where InferSQL keeps its own files (the built-in model, shell history).

It defaults to ``~/.cache/infersql``. A home that cannot be written (a read-only container,
a locked-down account) must not stop a query, so a private temporary folder stands in for it,
with a warning that names the variable to set.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "INFERSQL_HOME"


def home() -> Path:
    """The home folder, created if needed; a temporary one if it cannot be written."""
    root = Path(os.environ.get(ENV) or Path.home() / ".cache" / "infersql")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"infersql-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    fallback.mkdir(parents=True, exist_ok=True)
    log.warning("%s cannot be written; using %s instead (set %s to a writable folder)",
                root, fallback, ENV)
    return fallback
