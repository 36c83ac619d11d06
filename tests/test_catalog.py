"""The catalog on its own: models, the result cache and table statistics live in the DuckDB
database, so they survive the process; writes from several threads are safe."""
from __future__ import annotations

import threading

import duckdb
import pytest

import infersql
from catalog import Catalog


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "catalog.duckdb")


def test_models_and_default_persist(db_path):
    with duckdb.connect(db_path) as db:
        cat = Catalog(db)
        cat.register_model("a", "/models/a", {"dtype": "bfloat16"})
        cat.register_model("b", "/models/b", default=True)
        cat.register_model("c", "/models/c", default=True)      # the default moves
        cat.close()
    with duckdb.connect(db_path) as db:
        cat = Catalog(db)
        assert [m.name for m in cat.models()] == ["a", "b", "c"]
        assert cat.model("a").options == {"dtype": "bfloat16"} and cat.model("a").path == "/models/a"
        assert cat.default_model().name == "c"
        assert cat.model("missing") is None


def test_result_cache_is_keyed_by_model_prompt_and_options(db_path):
    with duckdb.connect(db_path) as db:
        cat = Catalog(db)
        cat.store("m1", "opts", {"p1": "r1", "p2": None})
        cat.store("m2", "opts", {"p1": "other model"})
        cat.store("m1", "greedy-8", {"p1": "other options"})
        cat.close()
    with duckdb.connect(db_path) as db:                  # a later session sees them
        cat = Catalog(db)
        assert cat.cached("m1", "opts", ["p1", "p2", "p3"]) == {"p1": "r1", "p2": None}
        assert cat.cached("m2", "opts", ["p1"]) == {"p1": "other model"}
        assert cat.cached("m1", "greedy-8", ["p1", "p1"]) == {"p1": "other options"}
        assert cat.cached("m1", "opts", []) == {}
        assert cat.cache_size() == 4
        cat.store("m3", "opts", {"only nulls": None, "again": None})   # no type to infer from
        cat.store("m1", "opts", {"p1": "replaced"})
        assert cat.cached("m3", "opts", ["only nulls", "again"]) == {"only nulls": None, "again": None}
        assert cat.cached("m1", "opts", ["p1"]) == {"p1": "replaced"} and cat.cache_size() == 6


def test_concurrent_writers(db_path):
    with duckdb.connect(db_path) as db:
        cat = Catalog(db)

        def write(k):
            for i in range(20):
                cat.store("m", "o", {f"{k}-{i}": str(i)})

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert cat.cache_size() == 80
        assert cat.cached("m", "o", ["3-19"]) == {"3-19": "19"}


def test_table_statistics_with_a_tokenizer(db_path):
    with duckdb.connect(db_path) as db:
        db.execute("CREATE TABLE r AS SELECT * FROM (VALUES (1, 'one two'), (2, 'one two'), "
                   "(3, NULL)) t(id, \"the text\")")
        cat = Catalog(db)
        words = lambda texts: [len(t.split()) for t in texts]      # noqa: E731 - a toy tokenizer
        stats = {s[1]: s[2:] for s in cat.analyze("r", words)}
        assert stats == {"id": (3, 3, 1.0), "the text": (3, 1, 2.0)}
        assert cat.table_stats("r") == [("id", 3, 3, 1.0), ("the text", 3, 1, 2.0)]


def test_analyze_through_the_connection_uses_the_model_tokenizer(tiny_model):
    with infersql.connect(model=tiny_model) as conn:
        conn.execute("CREATE TABLE r AS SELECT * FROM (VALUES (1, 'short'), (2, 'a much longer review text')) t(id, review)")
        by_col = {s[1]: s for s in conn.analyze("r")}
        assert by_col["id"][2:4] == (2, 2)
        tok = conn.engine.tokenizer
        mean = (len(tok("short").input_ids) + len(tok("a much longer review text").input_ids)) / 2
        assert by_col["review"][4] == pytest.approx(mean)
        assert [s[0] for s in conn.catalog.table_stats("r")] == ["id", "review"]
        conn.analyze("r")                                      # re-analysing replaces the rows
        assert len(conn.catalog.table_stats("r")) == 2
