"""The SQL oracle: plain DuckDB with one-row-at-a-time Python UDFs calling the same model.

Prompts follow the documented format (instruction, then ``name: value`` lines, then the answer
hint); each row is its own ``generate`` call with greedy decoding. An optimized query must
return exactly what the same query returns through these functions.
"""
from __future__ import annotations

import duckdb

from executor.engine import Engine, EngineConfig, Request


def _prompt(instruction: str, fields: list[tuple[str, object]], hint: str | None) -> str:
    lines = [instruction] + [f"{n}: {'NULL' if v is None else v}" for n, v in fields]
    if hint:
        lines.append(hint)
    return "\n".join(lines) + "\n"


def naive_connection(model: str) -> duckdb.DuckDBPyConnection:
    engine = Engine(EngineConfig(model=model, kv_cache_bytes=8 << 20))

    def one(prompt: str, **kw) -> str:
        return engine.generate([Request(prompt=prompt, chat=True, **kw)])[0].text

    def llm(instruction, name, value, max_tokens):
        return one(_prompt(instruction, [(name, value)], None), max_tokens=max_tokens)

    def llm2(instruction, n1, v1, n2, v2, max_tokens):
        return one(_prompt(instruction, [(n1, v1), (n2, v2)], None), max_tokens=max_tokens)

    def filt(instruction, name, value):
        return one(_prompt(instruction, [(name, value)], "Answer yes or no."),
                   choices=["yes", "no"]) == "yes"

    def classify(instruction, labels, name, value):
        hint = "Answer with one of: " + ", ".join(labels) + "."
        return one(_prompt(instruction, [(name, value)], hint), choices=list(labels))

    con = duckdb.connect()
    kw = dict(type="native", null_handling="special", side_effects=True)
    con.create_function("naive_llm", llm, ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER"], "VARCHAR", **kw)
    con.create_function("naive_llm2", llm2, ["VARCHAR"] * 5 + ["INTEGER"], "VARCHAR", **kw)
    con.create_function("naive_filter", filt, ["VARCHAR"] * 3, "BOOLEAN", **kw)
    con.create_function("naive_classify", classify, ["VARCHAR", "VARCHAR[]", "VARCHAR", "VARCHAR"],
                        "VARCHAR", **kw)
    return con


FIXTURE_SQL = """
CREATE TABLE movies (id INTEGER, title VARCHAR, info VARCHAR);
INSERT INTO movies VALUES
  (1, 'Harbor Lights', 'A fisherman''s daughter runs the family boat through a hard winter.'),
  (2, 'The Last Orbit', 'Two astronauts argue about whether to come home.'),
  (3, 'Paper Crowns', 'A children''s theatre troupe stages a play about kings.');
CREATE TABLE reviews (id INTEGER, movie_id INTEGER, stars INTEGER, review VARCHAR);
INSERT INTO reviews VALUES
  (1, 1, 5, 'A warm, patient film with a great cast.'),
  (2, 1, 2, 'Slow, grey and far too long.'),
  (3, 2, 4, 'Tense and clever; the ending surprised me.'),
  (4, 2, 1, 'I left before the end.'),
  (5, 3, 5, 'Pure joy for the whole family.'),
  (6, 3, 3, NULL),
  (7, 1, 5, 'A warm, patient film with a great cast.'),
  (8, 2, 2, 'The plot made no sense.');
"""
