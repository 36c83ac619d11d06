"""The query benchmark's tables and queries: the LLM-SQL paper's query types on its data.

Liu et al. (arXiv 2403.05821) evaluate filter, projection, multi-LLM and aggregation queries over
movies, products and beer reviews. Here each query puts the entity's shared fields (movie title
and info, product title and description, beer name and style) before the per-row fields, as the
paper does, so rows of one entity share a prompt prefix. The tables are loaded with their rows
in a SHUFFLED order (fixed seed): a table's storage order knows nothing of prompt prefixes, and
recovering the sharing is the optimizer's job, not the loader's.

Long text is clipped at load time so that prompts stay within the random benchmark model's
2,048-token context and the whole run fits in minutes on 2 cores; every system reads the same
clipped table.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import pyarrow as pa

from common import clip, load_rows


@dataclass(frozen=True)
class TableSpec:
    """How one CSV becomes a table: its renamed columns (SQL-friendly names; ``None`` drops a
    column), the text columns to clip to a number of words, and the integer/float/bool ones."""

    name: str
    columns: dict[str, str | None]
    clip_words: dict[str, int]
    types: dict[str, type]


TABLES = {
    "movies": TableSpec(
        "movies",
        {"movietitle": "movietitle", "movieinfo": "movieinfo", "genres": "genres",
         "reviewcontent": "reviewcontent", "reviewtype": "reviewtype", "topcritic": "topcritic",
         "rottentomatoeslink": None, "productioncompany": None},
        {"reviewcontent": 60},
        {"topcritic": bool}),
    "products": TableSpec(
        "products",
        {"product_title": "product_title", "description": "description", "text": "text",
         "review_title": "review_title", "rating": "rating",
         "verified_purchase": "verified_purchase", "parent_asin": None, "id": None},
        {"description": 40, "text": 40, "product_title": 20},
        {"rating": float, "verified_purchase": bool}),
    "beer": TableSpec(
        "beer",
        {"beer/name": "beer_name", "beer/style": "beer_style", "review/overall": "overall",
         "review/taste": "taste", "review/palate": "palate", "review/appearance": "appearance",
         "review/profileName": None, "review/time": None, "beer/beerId": None},
        {},
        {}),
}


@dataclass(frozen=True)
class Query:
    """One benchmark query: ``kind`` is the paper's query type. ``sql`` ends in an ORDER BY
    over the whole result, so rows compare exactly across systems."""

    name: str
    kind: str
    table: str
    sql: str


QUERIES = [
    Query("movies_filter", "filter", "movies", """
        SELECT id FROM movies
        WHERE LLM_FILTER('Does the critic recommend the movie?',
                         movietitle, movieinfo, reviewcontent)
        ORDER BY id"""),
    Query("movies_projection", "projection", "movies", """
        SELECT id, LLM('Summarize the critic''s opinion in a few words.',
                       movietitle, movieinfo, reviewcontent, max_tokens := 4) AS gist
        FROM movies ORDER BY id"""),
    Query("movies_multi", "multi-LLM", "movies", """
        SELECT id FROM movies
        WHERE LLM_FILTER('Is the movie suitable for children?', movietitle, movieinfo)
          AND LLM_FILTER('Does the critic recommend the movie?',
                         movietitle, movieinfo, reviewcontent)
        ORDER BY id"""),
    Query("movies_aggregation", "aggregation", "movies", """
        SELECT LLM_CLASSIFY('Which sentiment does the review express?',
                            ['positive', 'negative', 'neutral'],
                            movietitle, movieinfo, reviewcontent) AS sentiment,
               count(*) AS reviews
        FROM movies GROUP BY sentiment ORDER BY sentiment"""),
    Query("products_filter", "filter", "products", """
        SELECT id FROM products
        WHERE LLM_FILTER('Does the customer recommend the product?',
                         product_title, description, text)
        ORDER BY id"""),
    Query("products_multi", "multi-LLM", "products", """
        SELECT id, LLM('Summarize the review in a few words.',
                       product_title, description, text, max_tokens := 4) AS gist
        FROM products
        WHERE verified_purchase
          AND LLM_FILTER('Is the review positive?', product_title, description, review_title, text)
        ORDER BY id"""),
    Query("beer_filter", "filter", "beer", """
        SELECT id FROM beer
        WHERE LLM_FILTER('Is this beer worth recommending to a friend?',
                         beer_name, beer_style, overall, taste, palate, appearance)
        ORDER BY id"""),
    Query("beer_aggregation", "aggregation", "beer", """
        SELECT LLM_CLASSIFY('How did the drinker find the beer?', ['good', 'bad'],
                            beer_name, beer_style, overall, taste, palate, appearance) AS verdict,
               count(*) AS reviews
        FROM beer GROUP BY verdict ORDER BY verdict"""),
]


def _value(text: str, kind: type | None):
    if text == "" or kind is None:
        return text if kind is None else None
    if kind is bool:
        return text.strip().lower() == "true"
    return kind(text)


def table_rows(data: str, spec: TableSpec, rows: int, seed: int) -> pa.Table:
    """``rows`` rows of the table (a fixed random sample), clipped, with an ``id`` (the row's
    position in the CSV) and in a shuffled order."""
    source = load_rows(data, spec.name)
    picked = sorted(random.Random(seed).sample(range(len(source)), min(rows, len(source))))
    random.Random(seed + 1).shuffle(picked)
    columns: dict[str, list] = {"id": picked}
    for src, dst in spec.columns.items():
        if dst is None:
            continue
        words = spec.clip_words.get(src)
        columns[dst] = [_value(clip(source[i][src], words) if words else source[i][src],
                               spec.types.get(src)) for i in picked]
    return pa.table(columns)


def write_tables(data: str, rows: dict[str, int], seed: int, folder: str) -> dict[str, str]:
    """Each table's shuffled sample written once as Parquet into ``folder``; returns the paths.
    Every timed run then loads the same file into a fresh database."""
    import pyarrow.parquet as pq

    paths = {}
    for name, n in rows.items():
        paths[name] = f"{folder}/{name}.parquet"
        pq.write_table(table_rows(data, TABLES[name], n, seed), paths[name])
    return paths


def load_tables(con, paths: dict[str, str]) -> None:
    """Create the tables in a connection (plain DuckDB or InferSQL: only ``execute`` is used),
    rows in the file's (shuffled) order: DuckDB preserves insertion order."""
    for name, path in paths.items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
