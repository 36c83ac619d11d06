"""The catalog: what InferSQL knows, kept in the user's DuckDB database beside their tables.

Three tables, created on first use:
  infersql_models       registered models (name -> folder, engine options, default flag)
  infersql_llm_cache    LLM results keyed by (model, canonical prompt, decoding options)
  infersql_table_stats  row counts, distinct counts and mean tokens per column
Because they live in the database file, cached results and registrations survive the process,
and every write commits on its own, so an interrupted query keeps what it had finished.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import duckdb

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS infersql_models (
           name VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, options VARCHAR NOT NULL,
           is_default BOOLEAN NOT NULL DEFAULT false)""",
    """CREATE TABLE IF NOT EXISTS infersql_llm_cache (
           model VARCHAR NOT NULL, prompt VARCHAR NOT NULL, options VARCHAR NOT NULL,
           result VARCHAR, created TIMESTAMP DEFAULT current_timestamp,
           PRIMARY KEY (model, prompt, options))""",
    """CREATE TABLE IF NOT EXISTS infersql_table_stats (
           table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL, row_count BIGINT,
           distinct_count BIGINT, avg_tokens DOUBLE, PRIMARY KEY (table_name, column_name))""",
]


@dataclass
class ModelEntry:
    name: str
    path: str
    options: dict
    is_default: bool


class Catalog:
    """Thread-safe access through one dedicated DuckDB connection to the user's database."""

    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        self._con = db.cursor()
        self._lock = threading.Lock()
        with self._lock:
            for ddl in _SCHEMA:
                self._con.execute(ddl)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # ---- models ---------------------------------------------------------------------------
    def register_model(self, name: str, path: str, options: dict | None = None,
                       default: bool = False) -> None:
        with self._lock:
            if default:
                self._con.execute("UPDATE infersql_models SET is_default = false")
            self._con.execute("INSERT OR REPLACE INTO infersql_models VALUES (?, ?, ?, ?)",
                              [name, path, json.dumps(options or {}), default])

    def model(self, name: str) -> ModelEntry | None:
        with self._lock:
            row = self._con.execute("SELECT * FROM infersql_models WHERE name = ?", [name]).fetchone()
        return ModelEntry(row[0], row[1], json.loads(row[2]), row[3]) if row else None

    def default_model(self) -> ModelEntry | None:
        with self._lock:
            row = self._con.execute(
                "SELECT * FROM infersql_models WHERE is_default LIMIT 1").fetchone()
        return ModelEntry(row[0], row[1], json.loads(row[2]), row[3]) if row else None

    def models(self) -> list[ModelEntry]:
        with self._lock:
            rows = self._con.execute("SELECT * FROM infersql_models ORDER BY name").fetchall()
        return [ModelEntry(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    # ---- result cache ---------------------------------------------------------------------
    def cached(self, model: str, options: str, prompts: list[str]) -> dict[str, str | None]:
        """Results already known for these prompts under (model, options)."""
        if not prompts:
            return {}
        with self._lock:
            rows = self._con.execute(
                "SELECT prompt, result FROM infersql_llm_cache WHERE model = ? AND options = ? "
                "AND prompt IN (SELECT unnest(?))", [model, options, list(set(prompts))]).fetchall()
        return dict(rows)

    def store(self, model: str, options: str, results: dict[str, str | None]) -> None:
        """Persist results; each call is its own committed transaction. One statement for all
        rows (lists unnested side by side): ``executemany`` costs a statement per row, some
        5 ms each on a database file, and the engine waits while its results are stored."""
        if not results:
            return
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO infersql_llm_cache (model, prompt, options, result) "
                "SELECT ?, unnest(?), ?, unnest(?)",
                [model, list(results), options, list(results.values())])

    def cache_size(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM infersql_llm_cache").fetchone()[0]

    # ---- table statistics -----------------------------------------------------------------
    def analyze(self, table: str, count_tokens) -> list[tuple]:
        """Collect and store row count, distinct count and mean tokens for every column.

        ``count_tokens(list[str]) -> list[int]`` is the model's tokenizer, so the optimizer
        can estimate prompt lengths in the unit the engine is billed in.
        """
        with self._lock:
            cols = [r[0] for r in self._con.execute(f"DESCRIBE {table}").fetchall()]
            total = self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            stats = []
            for col in cols:
                quoted = '"' + col.replace('"', '""') + '"'
                distinct = self._con.execute(
                    f"SELECT count(DISTINCT {quoted}) FROM {table}").fetchone()[0]
                sample = [r[0] for r in self._con.execute(
                    f"SELECT CAST({quoted} AS VARCHAR) FROM {table} USING SAMPLE 1000 ROWS"
                ).fetchall() if r[0] is not None]
                tokens = sum(count_tokens(sample)) / len(sample) if sample else 0.0
                stats.append((table, col, total, distinct, tokens))
            self._con.executemany(
                "INSERT OR REPLACE INTO infersql_table_stats VALUES (?, ?, ?, ?, ?)", stats)
        return stats

    def table_stats(self, table: str) -> list[tuple]:
        with self._lock:
            return self._con.execute(
                "SELECT column_name, row_count, distinct_count, avg_tokens FROM "
                "infersql_table_stats WHERE table_name = ? ORDER BY column_name", [table]).fetchall()
