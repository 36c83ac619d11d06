"""Train and held-out pools: which words and which real rows each split may use.

Why a fixed split: the accuracy figures in the model card must come from texts the model never
saw. Real rows are split by movie (reviews of one movie share its words) and by product; names,
cities and a fifth of the nouns are split by word, so the copy and mention tasks are measured
on words absent from training. Real rows come from ``--data`` only: a folder holding the
LLM-SQL benchmark tables ``movies.csv``, ``products.csv`` and ``beer.csv`` (from the repository
of "Optimizing LLM Queries in Relational Workloads", lynnliu030/vldb25). The shipped weights
need no data at run time, and training without ``--data`` uses templates alone.
"""
from __future__ import annotations

import csv
import html
import random
import re
from pathlib import Path

from . import lexicon as lx
from .tasks import Pools

SPLIT_SEED = 1234     # fixed: the held-out words must not move when the training seed does
HELD_OUT = 0.2
INVENTED = 6000       # invented names (and half as many cities and nouns) added to training


def _split(items: list, kind: str) -> tuple[list, list]:
    """(train, held out) ``items``, shuffled by a generator of the kind's own: growing one word
    list moves no other split (the held-out movies stay put when a city is added)."""
    items = sorted(set(items))
    random.Random(f"{SPLIT_SEED}/{kind}").shuffle(items)
    k = max(1, int(len(items) * HELD_OUT))
    return items[k:], items[:k]


def _clean(text: str) -> str:
    """Source texts carry HTML entities and literal escapes; the model should see plain text."""
    text = html.unescape(text.replace("\\'", "'").replace("\\xa0", " "))
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


TABLES = ("movies.csv", "products.csv", "beer.csv")


def data_folder(value: str) -> str:
    """``--data``'s argparse type: a folder holding the three tables, checked before minutes
    of work start (a wrong path ended in a traceback)."""
    import argparse

    missing = [name for name in TABLES if not (Path(value) / name).is_file()]
    if missing:
        raise argparse.ArgumentTypeError(f"{value!r} has no {', '.join(missing)} (want a folder "
                                         f"with the LLM-SQL benchmark's {', '.join(TABLES)})")
    return value


def _read(folder: Path, name: str) -> list[dict]:
    with open(folder / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _add_invented(train: Pools, avoid: set[str]) -> None:
    """Training names, cities and mention nouns get invented words beside the real ones (see
    ``lexicon.invented_words``); held-out pools keep real words only, so the figures are about
    real names the model never saw."""
    rng = random.Random(SPLIT_SEED + 1)
    real = train.first_names + train.last_names + train.cities + train.nouns    # training words only
    train.first_names = train.first_names + lx.invented_words(rng, INVENTED, avoid, True, real)
    train.last_names = train.last_names + lx.invented_words(rng, INVENTED, avoid, True, real)
    train.cities = train.cities + lx.invented_words(rng, INVENTED // 2, avoid, True, real)
    train.invented_nouns = lx.invented_words(rng, INVENTED // 2, avoid, False, real)


def pools(data: str | Path | None) -> tuple[Pools, Pools]:
    """(train, held_out) pools; real rows only when ``data`` names the benchmark tables' folder."""
    nouns, firsts = _split(lx.NOUNS, "nouns"), _split(lx.FIRST_NAMES, "first names")
    lasts, cities = _split(lx.LAST_NAMES, "last names"), _split(lx.CITIES, "cities")
    train = Pools(nouns[0], firsts[0], lasts[0], cities[0])
    held = Pools(nouns[1], firsts[1], lasts[1], cities[1])
    _add_invented(train, {w.lower() for w in lx.NOUNS + lx.FIRST_NAMES + lx.LAST_NAMES + lx.CITIES})
    if data is None:
        return train, held
    folder = Path(data)
    movies = [dict(r, reviewcontent=_clean(r["reviewcontent"]), movieinfo=_clean(r["movieinfo"]))
              for r in _read(folder, "movies.csv") if r["reviewcontent"].strip()]
    titles = _split([r["movietitle"] for r in movies], "movies")
    products = [dict(r, text=_clean(r["text"])) for r in _read(folder, "products.csv")]
    asins = _split([r["parent_asin"] for r in products], "products")
    beers = [dict(r, **{k: _clean(r[k]) for k in ("beer/name", "beer/style")}) for r in _read(folder, "beer.csv")]
    beer_ids = _split([r["beer/beerId"] for r in beers], "beers")
    for pool, t, a, b in ((train, titles[0], asins[0], beer_ids[0]), (held, titles[1], asins[1], beer_ids[1])):
        t, a, b = set(t), set(a), set(b)
        pool.movie_rows = [r for r in movies if r["movietitle"] in t]
        pool.movie_reviews = [(r["reviewcontent"], r["reviewtype"] == "Fresh") for r in pool.movie_rows]
        pool.product_rows = [r for r in products if r["parent_asin"] in a]
        pool.product_reviews = [(r["text"], float(r["rating"]) >= 4) for r in pool.product_rows
                                if r["text"] and float(r["rating"]) != 3]
        pool.beer_rows = [r for r in beers if r["beer/beerId"] in b]
    return train, held
