"""A small movie-review database for the optimizer's tests: several reviews per movie (so
prompts that lead with the movie's fields share prefixes), repeated review texts (so
deduplication shows), a NULL, and stars and a top-critic flag for relational predicates."""
from __future__ import annotations

import random

MOVIES = [
    (1, "Harbor Lights", "A fisherman's daughter runs the family boat through a hard winter."),
    (2, "The Last Orbit", "Two astronauts argue about whether to come home."),
    (3, "Paper Crowns", "A children's theatre troupe stages a play about kings."),
    (4, "Salt and Iron", "A blacksmith's apprentice leaves the village for the capital."),
    (5, "Night Bus", "Strangers share one long ride across a sleeping city."),
]
TEXTS = [
    "A warm, patient film with a great cast.", "Slow, grey and far too long.",
    "Tense and clever; the ending surprised me.", "I left before the end.",
    "Pure joy for the whole family.", "The plot made no sense.",
    "Beautifully shot, thinly written.", "A small miracle of a movie.",
]


def fixture_sql(reviews: int = 30, seed: int = 7) -> str:
    rng = random.Random(seed)
    rows = []
    for i in range(1, reviews + 1):
        text = "NULL" if i == 6 else "'" + rng.choice(TEXTS).replace("'", "''") + "'"
        rows.append(f"({i}, {rng.randint(1, 5)}, {rng.randint(1, 5)}, {rng.random() < 0.4}, {text})")
    movies = ", ".join("(%d, '%s', '%s')" % (i, t.replace("'", "''"), info.replace("'", "''"))
                       for i, t, info in MOVIES)
    return (f"CREATE TABLE movies (id INTEGER, title VARCHAR, info VARCHAR);"
            f"INSERT INTO movies VALUES {movies};"
            f"CREATE TABLE reviews (id INTEGER, movie_id INTEGER, stars INTEGER, topcritic BOOLEAN,"
            f" review VARCHAR); INSERT INTO reviews VALUES {', '.join(rows)};")


def forget(conn) -> None:
    """Empty the result cache and the selectivity feedback: the next query starts cold."""
    conn.execute("DELETE FROM infersql_catalog.llm_cache")
    conn.execute("DELETE FROM infersql_catalog.llm_selectivity")


PAIR_WORDS = ("the film story cast plot scene actor director music score slow warm clever dark "
              "funny long short brilliant dull moving tense quiet loud sharp gentle ending").split()


def pair_reviews_sql(texts: int = 256, chars: int = 150, seed: int = 11) -> str:
    """Table ``r(id, review)``: one movie's ``texts`` reviews of about ``chars`` characters,
    the input of a self-join into pairs (256 texts: 32,640 pairs with ``a.id < b.id``)."""
    rng = random.Random(seed)
    rows = []
    for i in range(texts):
        words: list[str] = []
        while len(" ".join(words)) < chars:
            words.append(rng.choice(PAIR_WORDS))
        rows.append(f"({i}, '{' '.join(words)[:chars]}')")
    return f"CREATE TABLE r (id INTEGER, review VARCHAR); INSERT INTO r VALUES {', '.join(rows)};"


def pair_join_sql(predicate: str = "LLM_FILTER('Do the two reviews agree?', a.review, b.review)",
                  limit: int = 10) -> str:
    """Pairs of ``r``'s reviews that ``predicate`` lets through, any ``limit`` of them."""
    return f"SELECT a.id, b.id FROM r a JOIN r b ON a.id < b.id WHERE {predicate} LIMIT {limit}"


def movies_db_sql(shuffle_seed: int = 3) -> str:
    """Table ``r(id, movie, info, review)``: 12 movies x 6 reviews, in shuffled order; each
    movie's long info is shared by its reviews, each review is its own."""
    rng = random.Random(shuffle_seed)
    words = "river night winter city letter garden train mirror storm island".split()
    rows = []
    for m in range(12):
        info = " ".join(rng.choice(words) for _ in range(60))
        rows += [(m, f"film {m}: {info}", f"review {m}-{k}: " + " ".join(rng.choice(words) for _ in range(6)))
                 for k in range(6)]
    rng.shuffle(rows)
    values = ", ".join(f"({i}, {m}, '{info}', '{rev}')" for i, (m, info, rev) in enumerate(rows))
    return f"CREATE TABLE r AS SELECT * FROM (VALUES {values}) v(id, movie, info, review)"
