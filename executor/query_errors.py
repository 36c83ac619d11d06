"""Errors the executor raises; the DB-API layer maps them onto PEP 249 classes."""


class QueryError(Exception):
    """Base of errors about one query."""


class BadCallError(QueryError):
    """An LLM call is malformed: bad option, argument type, unknown model (ProgrammingError)."""


class InferenceError(QueryError):
    """The model cannot serve the call: it fails to load, a prompt is too long
    (OperationalError)."""


class AnswerTypeError(QueryError):
    """A typed answer its type cannot hold, with ``on_error := 'raise'`` (DataError)."""


class UnsupportedError(QueryError):
    """An LLM call where InferSQL cannot run it yet, such as in a view (NotSupportedError)."""


class QueryCancelled(QueryError):
    """The statement was cancelled (Ctrl-C); finished LLM results are kept in the cache."""
