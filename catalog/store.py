"""The catalog: what InferSQL knows, kept in the user's DuckDB database beside their tables.

The tables live in a schema of their own (``SCHEMA``), out of the way of ``SHOW TABLES`` and
the user's names; other modules create their catalog tables there too:
  models       registered models (name -> folder, engine options, default flag)
  llm_cache    LLM results keyed by (model, canonical prompt, decoding options)
  table_stats  row counts, distinct counts and mean tokens per column
  model_fingerprints  each model folder's content hash, with the files' sizes and mtimes it
               was computed from (the result cache's model key; see executor.model_fingerprint)
Because they live in the database file, cached results and registrations survive the process,
and every write commits on its own, so an interrupted query keeps what it had finished.

A read-only database still answers LLM queries: the catalog reads what the file holds and keeps
new results in memory for the session, and says once that they are not persisted.
"""
from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass

import duckdb

SCHEMA = "infersql_catalog"

_TABLES = {
    "models": """(name VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, options VARCHAR NOT NULL,
                  is_default BOOLEAN NOT NULL DEFAULT false)""",
    "llm_cache": """(model VARCHAR NOT NULL, prompt VARCHAR NOT NULL, options VARCHAR NOT NULL,
                     result VARCHAR, created TIMESTAMP DEFAULT current_timestamp,
                     PRIMARY KEY (model, prompt, options))""",
    "table_stats": """(table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
                       row_count BIGINT, distinct_count BIGINT, avg_tokens DOUBLE,
                       PRIMARY KEY (table_name, column_name))""",
    "model_fingerprints": """(path VARCHAR PRIMARY KEY, files VARCHAR NOT NULL,
                              fingerprint VARCHAR NOT NULL)""",
}
_LEGACY_PREFIX = "infersql_"      # before the schema: main.infersql_models, ...

MODELS, LLM_CACHE, TABLE_STATS, MODEL_FINGERPRINTS = (f"{SCHEMA}.{t}" for t in _TABLES)


class ReadOnlyError(Exception):
    """A write the catalog cannot make because the database is read-only."""


class ReadOnlyWarning(UserWarning):
    """New LLM results are kept for the session only: the database is read-only. A warning
    (not a log line) so that a program can filter it with ``warnings`` like any other."""


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
        self._session_cache: dict[tuple[str, str, str], str | None] = {}
        self._warned = False
        with self._lock:
            self.read_only = bool(self._con.execute(
                "SELECT readonly FROM duckdb_databases() "
                "WHERE database_name = current_database()").fetchone()[0])
            self.exists = self._schema_exists()
            if not self.read_only:
                self._create()
                self.exists = True

    def _schema_exists(self) -> bool:
        return bool(self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = 'llm_cache'", [SCHEMA]).fetchone()[0])

    def _create(self) -> None:
        """Create the schema and its tables; move a pre-schema catalog's rows into them."""
        self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        legacy = {r[0] for r in self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name LIKE 'infersql\\_%' ESCAPE '\\'").fetchall()}
        for table, columns in _TABLES.items():
            self._con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} {columns}")
            old = _LEGACY_PREFIX + table
            if old in legacy:
                self._con.execute(f"INSERT OR IGNORE INTO {SCHEMA}.{table} SELECT * FROM main.{old}")
                self._con.execute(f"DROP TABLE main.{old}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the same database, for a module that keeps its own
        catalog table (cost coefficients, selectivity feedback); the caller closes it."""
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"cannot {what}: the database is open read-only; open it "
                                "without read_only (--read-only on the command line) to write")

    def _read(self, sql: str, params: list) -> list[tuple]:
        """Rows of a catalog query; none when a read-only file has no catalog yet."""
        if not self.exists:
            return []
        return self._con.execute(sql, params).fetchall()

    # ---- models ---------------------------------------------------------------------------
    def register_model(self, name: str, path: str, options: dict | None = None,
                       default: bool = False) -> None:
        self._writable(f"register model {name!r}")
        with self._lock:
            if default:
                self._con.execute(f"UPDATE {MODELS} SET is_default = false")
            self._con.execute(f"INSERT OR REPLACE INTO {MODELS} VALUES (?, ?, ?, ?)",
                              [name, path, json.dumps(options or {}), default])

    def model(self, name: str) -> ModelEntry | None:
        with self._lock:
            rows = self._read(f"SELECT * FROM {MODELS} WHERE name = ?", [name])
        return _entry(rows[0]) if rows else None

    def default_model(self) -> ModelEntry | None:
        with self._lock:
            rows = self._read(f"SELECT * FROM {MODELS} WHERE is_default LIMIT 1", [])
        return _entry(rows[0]) if rows else None

    def models(self) -> list[ModelEntry]:
        with self._lock:
            return [_entry(r) for r in self._read(f"SELECT * FROM {MODELS} ORDER BY name", [])]

    # ---- model fingerprints ---------------------------------------------------------------
    def model_fingerprint(self, path: str, files: str) -> str | None:
        """The fingerprint stored for the folder ``path`` if its files (``files``: their
        names, sizes and mtimes, as text) are still the ones it was computed from."""
        with self._lock:
            rows = self._read(f"SELECT fingerprint FROM {MODEL_FINGERPRINTS} "
                              "WHERE path = ? AND files = ?", [path, files])
        return rows[0][0] if rows else None

    def remember_model_fingerprint(self, path: str, files: str, fingerprint: str) -> None:
        """Keep a folder's fingerprint for later sessions; a read-only database keeps none
        (the caller remembers it for the session)."""
        if self.read_only:
            return
        with self._lock:
            self._con.execute(f"INSERT OR REPLACE INTO {MODEL_FINGERPRINTS} VALUES (?, ?, ?)",
                              [path, files, fingerprint])

    # ---- result cache ---------------------------------------------------------------------
    def cached(self, model: str, options: str, prompts: list[str]) -> dict[str, str | None]:
        """Results already known for these prompts under (model, options)."""
        if not prompts:
            return {}
        with self._lock:
            known = dict(self._read(
                f"SELECT prompt, result FROM {LLM_CACHE} WHERE model = ? AND options = ? "
                "AND prompt IN (SELECT unnest(?))", [model, options, list(set(prompts))]))
            for p in prompts:
                if (model, options, p) in self._session_cache:
                    known[p] = self._session_cache[(model, options, p)]
        return known

    def store(self, model: str, options: str, results: dict[str, str | None]) -> None:
        """Persist results; each call is its own committed transaction. One statement for all
        rows (lists unnested side by side): ``executemany`` costs a statement per row, some
        5 ms each on a database file, and the engine waits while its results are stored.
        On a read-only database the results are kept for this session only."""
        if not results:
            return
        with self._lock:
            if self.read_only:
                if not self._warned:
                    warnings.warn("the database is read-only: LLM results are kept for this "
                                  "session only, not persisted in its result cache",
                                  ReadOnlyWarning, stacklevel=2)
                    self._warned = True
                self._session_cache.update(((model, options, p), r) for p, r in results.items())
                return
            self._con.execute(
                f"INSERT OR REPLACE INTO {LLM_CACHE} (model, prompt, options, result) "
                "SELECT ?, unnest(?), ?, unnest(?)",
                [model, list(results), options, list(results.values())])

    def clear_cache(self) -> int:
        """Forget every cached LLM answer (the session's too); how many there were."""
        self._writable("clear the result cache")
        count = self.cache_size()
        with self._lock:
            self._session_cache.clear()
            self._con.execute(f"DELETE FROM {LLM_CACHE}")
            return count

    def cache_size(self) -> int:
        with self._lock:
            rows = self._read(f"SELECT count(*) FROM {LLM_CACHE}", [])
            return (rows[0][0] if rows else 0) + len(self._session_cache)

    # ---- table statistics -----------------------------------------------------------------
    def analyze(self, table: str, count_tokens) -> list[tuple]:
        """Collect and store row count, distinct count and mean tokens for every column.

        ``count_tokens(list[str]) -> list[int]`` is the model's tokenizer, so the figures are
        in the unit the engine is billed in. They are for people to read: the optimizer does
        not need them, since it counts the rows that reach each call with DuckDB as it plans.
        """
        self._writable(f"store statistics of {table}")
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
                f"INSERT OR REPLACE INTO {TABLE_STATS} VALUES (?, ?, ?, ?, ?)", stats)
        return stats

    def table_stats(self, table: str) -> list[tuple]:
        with self._lock:
            return self._read(
                f"SELECT column_name, row_count, distinct_count, avg_tokens FROM {TABLE_STATS} "
                "WHERE table_name = ? ORDER BY column_name", [table])


def _entry(row: tuple) -> ModelEntry:
    return ModelEntry(row[0], row[1], json.loads(row[2]), row[3])
