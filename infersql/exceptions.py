"""The PEP 249 exception hierarchy, and the mapping of DuckDB's and the executor's errors
onto it, so callers catch one family whatever layer failed. ``ReadOnlyWarning`` (a
``UserWarning``, so ``warnings`` filters it) says once that a read-only database keeps new
LLM results for the session only."""
from __future__ import annotations

import duckdb

from catalog import ReadOnlyError, ReadOnlyWarning  # noqa: F401 - ReadOnlyWarning: re-exported
from executor.query_errors import AnswerTypeError, BadCallError, InferenceError, UnsupportedError


class Warning(Exception):  # noqa: A001 - the name PEP 249 prescribes
    pass


class Error(Exception):
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


ALL = (Warning, Error, InterfaceError, DatabaseError, DataError, OperationalError,
       IntegrityError, InternalError, ProgrammingError, NotSupportedError)

_FROM_DUCKDB = [  # most specific first
    (duckdb.IntegrityError, IntegrityError), (duckdb.DataError, DataError),
    (duckdb.NotSupportedError, NotSupportedError), (duckdb.ProgrammingError, ProgrammingError),
    (duckdb.OperationalError, OperationalError), (duckdb.InternalError, InternalError),
    (duckdb.DatabaseError, DatabaseError),
    (duckdb.Error, Error),
]


def translate(exc: BaseException) -> BaseException:
    """The PEP 249 exception to raise in place of ``exc`` (``exc`` itself if none fits)."""
    if isinstance(exc, Error):
        return exc
    if isinstance(exc, BadCallError):
        return ProgrammingError(str(exc))
    if isinstance(exc, AnswerTypeError):
        return DataError(str(exc))
    if isinstance(exc, (InferenceError, ReadOnlyError)):
        return OperationalError(str(exc))
    if isinstance(exc, UnsupportedError):
        return NotSupportedError(str(exc))
    if isinstance(exc, duckdb.Error) and _READ_ONLY_WRITE in str(exc):
        return OperationalError(f"{exc} (the database is open read-only: to write, open it "
                                "without read_only=True, or without --read-only in the CLI)")
    for source, target in _FROM_DUCKDB:
        if isinstance(exc, source):
            return target(str(exc))
    return exc


# DuckDB's words for a write refused by a read-only database (an InvalidInputException, which
# it files under ProgrammingError). The statement is valid SQL: what refuses it is how the
# database was opened, so PEP 249 calls it an OperationalError, as the README promises.
_READ_ONLY_WRITE = "attached in read-only mode"
