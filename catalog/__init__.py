"""What InferSQL knows, persisted in the DuckDB database: models, the LLM result cache, and
table statistics for the optimizer."""
from .store import Catalog, ModelEntry

__all__ = ["Catalog", "ModelEntry"]
