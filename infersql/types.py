"""PEP 249 type objects and constructors.

A column's ``description[i][1]`` is DuckDB's type (``BIGINT``, ``DECIMAL(5,2)``,
``TIMESTAMP WITH TIME ZONE``, ...). Each type object below compares equal to the DuckDB types
of its family, so ``description[i][1] == infersql.NUMBER`` works as PEP 249 says. The
constructors return the Python values DuckDB binds as parameters.
"""
from __future__ import annotations

import datetime
import time


class DBAPITypeObject:
    """Equal to any DuckDB type whose base name (before '(' or '[') is in ``names``."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def __eq__(self, other) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.names == other.names
        base = str(other).upper().split("(")[0].split("[")[0].strip()
        return base in self.names and not str(other).endswith("]")   # a LIST is no scalar

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"DBAPITypeObject({', '.join(sorted(self.names))})"


STRING = DBAPITypeObject("VARCHAR", "CHAR", "BPCHAR", "TEXT", "STRING", "ENUM", "UUID")
BINARY = DBAPITypeObject("BLOB", "BYTEA", "BIT", "BITSTRING")
NUMBER = DBAPITypeObject("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                         "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE",
                         "DECIMAL", "REAL")
DATETIME = DBAPITypeObject("DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
                           "TIME WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS",
                           "TIMESTAMP_NS", "INTERVAL")
ROWID = DBAPITypeObject()           # DuckDB has no row-id column type

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - names from PEP 249
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802
    return Timestamp(*time.localtime(ticks)[:6])
