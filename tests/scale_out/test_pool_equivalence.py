"""With ``workers=2`` on a local Ray, planned statements return exactly the rows of one
in-process engine: the optimizer equivalence suite's shapes (a representative subset here,
every shape with -m slow), each request answered once by one of the workers; EXPLAIN shows
the workers' shares and EXPLAIN ANALYZE what each worker did."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import infersql
from tests.naive_udf import FIXTURE_SQL
from tests.optimizer_fixture import fixture_sql, forget
from tests.test_optimizer_equivalence import CASES as PLANNED, F
from tests.test_sql_equivalence import CASES as CLAUSES

FAST_PLANNED = {"where_relational_and_llm", "where_two_llm_predicates", "where_classify_in",
                "select_projection", "select_order_limit", "filter_then_projection",
                "group_by_classify_alias", "join_where_two_tables", "case_in_select",
                "union_all_branches", "nested_calls", "three_fields_join",
                "filter_and_same_call_selected"}
FAST_CLAUSES = {"select", "having", "two_fields", "raw_form", "expression_field"}
KV = 8 << 20                # the in-process engine's cache; each worker gets half


def _params(cases: dict, fast: set) -> list:
    return [pytest.param(name, marks=() if name in fast else pytest.mark.slow) for name in cases]


class Databases:
    """One in-process connection per fixture database, and one connection on two Ray workers
    at a time (the local Ray has room for one pool of two; the tests that use the second
    database come last, so the pool starts twice)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.one: dict[str, infersql.Connection] = {}
        self.pool: tuple[str, infersql.Connection] | None = None

    def get(self, setup_sql: str) -> tuple[infersql.Connection, infersql.Connection]:
        if setup_sql not in self.one:
            self.one[setup_sql] = infersql.connect(model=self.model, kv_cache_bytes=KV)
            self.one[setup_sql].execute(setup_sql)
        if self.pool is None or self.pool[0] != setup_sql:
            if self.pool is not None:
                self.pool[1].close()
            conn = infersql.connect(model=self.model, kv_cache_bytes=KV // 2, workers=2)
            conn.execute(setup_sql)
            self.pool = (setup_sql, conn)
        return self.one[setup_sql], self.pool[1]

    def close(self) -> None:
        for conn in [*self.one.values(), *([self.pool[1]] if self.pool else [])]:
            conn.close()


@pytest.fixture(scope="module")
def dbs(tiny_model):
    import ray

    databases = Databases(tiny_model)
    yield databases
    databases.close()
    ray.shutdown()


def _same_rows(dbs, setup_sql: str, sql: str):
    one, two = dbs.get(setup_sql)
    forget(one)
    forget(two)
    cur = two.cursor()
    assert cur.execute(sql).fetchall() == one.execute(sql).fetchall()
    stats = cur.stats
    assert stats.lazy_evaluations == 0
    answered = sum(w["requests"] for w in stats.workers.values())
    assert answered == stats.llm_calls, "every request is answered once, by one worker"
    return stats


def test_a_model_the_workers_cannot_load_fails_with_their_error(tiny_model, tmp_path):
    """Runs first, before any pool holds the local Ray's cores."""
    broken = tmp_path / "no-weights"
    shutil.copytree(tiny_model, broken, ignore=shutil.ignore_patterns("*.safetensors"))
    with infersql.connect(model=str(broken), workers=2) as conn:
        with pytest.raises(infersql.OperationalError, match="a Ray worker could not load") as err:
            conn.execute(f"SELECT {F} FROM (SELECT 'fine' AS review)")
    assert "cannot load" in str(err.value).split("could not load", 1)[1]


@pytest.mark.parametrize("shape", _params(PLANNED, FAST_PLANNED))
def test_planned_shape_matches_one_engine(dbs, shape):
    _same_rows(dbs, fixture_sql(), PLANNED[shape])


def test_both_workers_share_an_operator(dbs):
    stats = _same_rows(dbs, fixture_sql(), PLANNED["three_fields_join"])
    assert len(stats.workers) == 2 and all(w["requests"] > 0 for w in stats.workers.values())


def test_limit_without_order_stops_early(dbs):
    """A streamed LIMIT ends the workers' work once enough rows passed: the rows it returns
    are rows the one engine passes too."""
    one, two = dbs.get(fixture_sql())
    forget(one)
    forget(two)
    passing = {r[0] for r in one.execute(f"SELECT id FROM reviews WHERE {F}").fetchall()}
    rows = two.execute(f"SELECT id FROM reviews WHERE {F} LIMIT 3").fetchall()
    assert len(rows) == min(3, len(passing)) and {r[0] for r in rows} <= passing


def test_explain_shows_each_workers_share_and_actuals(dbs):
    one, two = dbs.get(fixture_sql())
    forget(two)
    sql = PLANNED["three_fields_join"]
    doc = json.loads(two.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone()[0])
    (op,) = doc["scopes"][0]["operators"]
    shares = op["workers"]["estimate"]
    assert doc["engine"]["workers"] == 2 and len(shares) == 2
    assert sum(s["requests"] for s in shares) == op["estimate"]["distinct"]
    assert op["workers"]["makespan_seconds"] == max(s["seconds"] for s in shares)
    text = "\n".join(r[0] for r in two.execute("EXPLAIN ANALYZE " + sql).fetchall())
    assert "workers: 2, estimated makespan" in text
    actual = [line for line in text.splitlines() if " actual: requests=" in line]
    assert len(actual) == 2, text
    calls = int(text.split("llm_calls=")[1].split()[0])
    assert sum(int(line.split("requests=")[1].split()[0]) for line in actual) == calls > 0


def test_cli_workers_flag_prints_what_one_engine_prints(tiny_model, tmp_path):
    sql = fixture_sql(12) + f" SELECT id, {F} FROM reviews ORDER BY id"
    env = dict(os.environ)

    def cli(*flags: str) -> str:
        done = subprocess.run([sys.executable, "-m", "infersql.cli", "-m", tiny_model, *flags,
                               "--csv", "-c", sql], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert cli("--workers", "2") == cli()


@pytest.mark.parametrize("clause", _params(CLAUSES, FAST_CLAUSES))
def test_clause_matches_one_engine(dbs, clause):
    _same_rows(dbs, FIXTURE_SQL, CLAUSES[clause])
