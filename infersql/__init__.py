"""InferSQL: SQL with LLM calls, through a PEP 249 DB-API.

    import infersql
    with infersql.connect("reviews.duckdb", model="/path/to/hf-folder") as conn:
        rows = conn.execute("SELECT review, LLM_FILTER('Is it positive?', review) FROM reviews").fetchall()
"""
from importlib.metadata import PackageNotFoundError, version

from .connection import Connection, connect
from .cursor import Cursor
from .exceptions import (DatabaseError, DataError, Error, IntegrityError, InterfaceError,
                         InternalError, NotSupportedError, OperationalError, ProgrammingError,
                         ReadOnlyWarning, Warning)
from .types import (BINARY, DATETIME, NUMBER, ROWID, STRING, Binary, Date, DateFromTicks, Time,
                    TimeFromTicks, Timestamp, TimestampFromTicks)

try:
    __version__ = version("infersql")
except PackageNotFoundError:          # a source tree that was never installed
    __version__ = "0+unknown"

apilevel = "2.0"
threadsafety = 2          # threads may share the module and connections, not cursors
paramstyle = "qmark"

__all__ = ["__version__", "connect", "Connection", "Cursor", "apilevel", "threadsafety", "paramstyle",
           "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
           "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
           "NotSupportedError", "ReadOnlyWarning", "Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks",
           "TimestampFromTicks", "Binary", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID"]
