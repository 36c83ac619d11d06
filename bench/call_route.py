"""The route of one LLM_FILTER through the code, from ``Cursor.execute`` to the engine and back:
which of the project's files call which. A measure of how straight the stack is (issue 22):
each distinct caller-file -> callee-file arrow counts once, the engine package counts as one
box (its inside is the engine's own business), and the model is loaded and warmed first.

    python bench/call_route.py            # the count, then every arrow
"""
from __future__ import annotations

import os
import sys
import threading

import infersql

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(infersql.__file__)))
PACKAGES = tuple(os.path.join(ROOT, p) + os.sep for p in ("infersql", "optimizer", "executor", "catalog"))
ENGINE = os.path.join("executor", "engine")


def _box(path: str) -> str:
    rel = os.path.relpath(path, ROOT)
    return ENGINE if rel.startswith(ENGINE + os.sep) else rel


def route(sql: str, setup: list[str]) -> tuple[set[tuple[str, str]], set[str]]:
    conn = infersql.connect()
    for statement in setup:
        conn.execute(statement)
    conn.execute(sql).fetchall()            # load and warm the model: its loading is not the route
    arrows: set[tuple[str, str]] = set()
    files: set[str] = set()

    def tracer(frame, event, arg):
        if event != "call" or not frame.f_code.co_filename.startswith(PACKAGES):
            return
        callee = _box(frame.f_code.co_filename)
        files.add(callee)
        caller = frame.f_back
        while caller is not None and not caller.f_code.co_filename.startswith(PACKAGES):
            caller = caller.f_back
        if caller is not None and _box(caller.f_code.co_filename) != callee:
            arrows.add((_box(caller.f_code.co_filename), callee))

    conn.execute("DELETE FROM infersql_catalog.llm_cache")   # infer again, not from the cache
    threading.setprofile(tracer)
    sys.setprofile(tracer)
    try:
        conn.execute(sql).fetchall()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return arrows, files


def main() -> None:
    arrows, files = route("SELECT review FROM t WHERE LLM_FILTER('Is the review positive?', review)",
                          ["CREATE TABLE t AS SELECT * FROM (VALUES ('I love it'), ('Awful')) v(review)"])
    print(f"{len(arrows)} file crossings (distinct caller -> callee arrows) over {len(files)} files")
    for caller, callee in sorted(arrows):
        print(f"  {caller} -> {callee}")


if __name__ == "__main__":
    main()
