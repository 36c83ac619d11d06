"""Fitted cost-model coefficients, one row per (model, device, dtype), in the user's database.

Why in the catalog: calibration takes a minute of measured iterations, and its result belongs
to the model and the machine, not to one process; the optimizer and EXPLAIN read it back on
every query. The table lives in the catalog's own schema, out of the user's ``SHOW TABLES``.
"""
from __future__ import annotations

import json
import os

from .store import SCHEMA


def model_key(model_path: str) -> str:
    """A model folder's key: its absolute path, so ``./m`` and ``/abs/m`` are one model."""
    return os.path.realpath(model_path) if os.path.exists(model_path) else model_path


class CostCoefficients:
    """Reads and writes ``<schema>.cost_coefficients`` through a DuckDB connection or cursor."""

    def __init__(self, con, create: bool = True) -> None:
        """``create=False`` only reads, so a read-only database works (no table: no rows)."""
        self._con = con
        self._table = f"{SCHEMA}.cost_coefficients"
        if not create:
            return
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {self._table} (
            model VARCHAR NOT NULL, device VARCHAR NOT NULL, dtype VARCHAR NOT NULL,
            coefficients VARCHAR NOT NULL, mape DOUBLE, iterations INTEGER,
            created TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (model, device, dtype))""")

    def put(self, model_path: str, device: str, dtype: str, model: dict, iterations: int) -> None:
        """Store a cost model (``CostModel.to_dict()``), replacing an older calibration."""
        self._con.execute(
            f"INSERT OR REPLACE INTO {self._table} (model, device, dtype, coefficients, mape, "
            "iterations) VALUES (?, ?, ?, ?, ?, ?)",
            [model_key(model_path), device, dtype, json.dumps(model), model.get("mape"), iterations])

    def _exists(self) -> bool:
        # fetchall, not fetchone: DuckDB 2.0 keeps a result open until a fetch returns no
        # rows, and the caller's connection must be free for its next statement.
        return bool(self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = 'cost_coefficients'", [SCHEMA]).fetchall()[0][0])

    def get(self, model_path: str, device: str, dtype: str) -> dict | None:
        if not self._exists():
            return None
        row = self._con.execute(
            f"SELECT coefficients FROM {self._table} WHERE model = ? AND device = ? AND dtype = ?",
            [model_key(model_path), device, dtype]).fetchall()
        return json.loads(row[0][0]) if row else None

    def all(self) -> list[tuple]:
        if not self._exists():
            return []
        return self._con.execute(
            f"SELECT model, device, dtype, mape, iterations, created FROM {self._table} "
            "ORDER BY model, device, dtype").fetchall()
