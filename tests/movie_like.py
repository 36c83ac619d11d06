"""Synthetic movie reviews with the prefix shape of the benchmark's movies table.

Why: the cache-bound tests need the workload where a small KV cache used to lose prefixes (a
long description shared by every review of a movie, many movies, rows shuffled), and tests
must not read the benchmark data. Each movie has a title and a description of about 150 common
words (about 200 tokens with the built-in model's tokenizer); each review is 15-40 words. The
rows come shuffled, as a table's storage order knows nothing of prefixes.
"""
from __future__ import annotations

import random

WORDS = """the a of and to in is was it for on with as at by from this that film movie story
plot cast actor actress director scene music camera light dark night day city town village
house family father mother son daughter friend stranger war peace love hate fear hope life
death time year summer winter river sea road train ship island mountain forest king queen
soldier doctor teacher child old young new long short slow fast quiet loud warm cold bright
grey small great good bad strange simple clever funny sad tender brave lost found home away
back again never always often still only even every first last next long world journey secret
letter song dance game trial crime island garden school church market street window door""".split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def movie_reviews(reviews: list[int], seed: int = 0, info_words: int = 150,
                  review_words: tuple[int, int] = (15, 40)) -> list[tuple[str, str, str]]:
    """Rows of (title, info, review), shuffled: ``reviews[m]`` reviews of movie ``m``."""
    rng = random.Random(seed)
    rows = []
    for m, count in enumerate(reviews):
        title = f"{_text(rng, 2).title()} {m}"
        info = _text(rng, info_words)
        rows += [(title, info, _text(rng, rng.randint(*review_words))) for _ in range(count)]
    rng.shuffle(rows)
    return rows


def create_reviews_table(conn, rows: list[tuple[str, str, str]]) -> None:
    """Table ``r(title, info, review)`` holding ``rows`` in their (shuffled) order."""
    conn.execute("CREATE TABLE r (title VARCHAR, info VARCHAR, review VARCHAR)")
    conn.cursor().executemany("INSERT INTO r VALUES (?, ?, ?)", rows)
