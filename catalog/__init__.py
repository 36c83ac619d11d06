"""What InferSQL knows, persisted in the DuckDB database: models, the LLM result cache, and
table statistics for the optimizer."""
from .store import SCHEMA, Catalog, ModelEntry, ReadOnlyError, ReadOnlyWarning

__all__ = ["SCHEMA", "Catalog", "ModelEntry", "ReadOnlyError", "ReadOnlyWarning"]
