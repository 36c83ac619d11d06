"""Observed selectivity of LLM predicates: what share of rows each one let through.

The optimizer orders LLM predicates by rank = cost per row / (1 - selectivity). A predicate's
selectivity is learnt from the runs of the same predicate (the same call text, model and
options): every finished operator adds what it saw, so the next plan is ordered by facts. A
read-only database keeps what it learns for the session only.
"""
from __future__ import annotations

import threading

import duckdb

from .store import SCHEMA

TABLE = f"{SCHEMA}.llm_selectivity"


class SelectivityFeedback:
    def __init__(self, db: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self._con = db.cursor()
        self._lock = threading.Lock()
        self._session: dict[tuple[str, str], tuple[int, int]] = {}
        self.persistent = not read_only
        if self.persistent:
            with self._lock:
                self._con.execute(f"""CREATE TABLE IF NOT EXISTS {TABLE} (
                    model VARCHAR NOT NULL, predicate VARCHAR NOT NULL, passed BIGINT NOT NULL,
                    seen BIGINT NOT NULL, PRIMARY KEY (model, predicate))""")

    def record(self, model: str, predicate: str, passed: int, seen: int) -> None:
        """Add one run's counts: rows that passed, of the rows the predicate decided."""
        if seen <= 0:
            return
        with self._lock:
            if not self.persistent:
                p, s = self._session.get((model, predicate), (0, 0))
                self._session[(model, predicate)] = (p + passed, s + seen)
                return
            self._con.execute(
                f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?) ON CONFLICT (model, predicate) DO "
                "UPDATE SET passed = passed + excluded.passed, seen = seen + excluded.seen",
                [model, predicate, passed, seen])

    def selectivity(self, model: str, predicate: str) -> float | None:
        with self._lock:
            if not self.persistent:
                p, s = self._session.get((model, predicate), (0, 0))
                return p / s if s else None
            row = self._con.execute(f"SELECT passed, seen FROM {TABLE} WHERE model = ? AND "
                                    "predicate = ?", [model, predicate]).fetchone()
        return row[0] / row[1] if row and row[1] else None

    def close(self) -> None:
        with self._lock:
            self._con.close()
