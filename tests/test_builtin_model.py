"""The shipped built-in model: ``connect()`` with no model answers obvious questions.

The texts are written here, not drawn from the training templates, so the checks measure
whether the model generalizes to plain questions a newcomer would ask, through the real SQL
path. Questions the current weights get wrong are marked ``xfail(strict=True)``: they document
a known gap (see the model card, infersql/builtin_model/README.md) and fail loudly once a
retrained model fixes it.
"""
import re
import unicodedata

import pytest

import infersql
from infersql.builtin_model import MODEL_DIR

ROWS = """CREATE TABLE t AS SELECT * FROM (VALUES
    (1, 'An absolutely wonderful film. The cast is brilliant and I loved every minute.',
        'My dog fell asleep on the sofa while we watched.', 'Non-stick frying pan'),
    (2, 'A terrible, boring mess. I walked out after an hour, a waste of money.',
        'The weather was cold and the train was late.', 'Teddy bear for toddlers'),
    (3, 'Excellent quality, works perfectly. Highly recommended!',
        'We took the cat to the vet on Monday.', 'Stainless steel cheese grater'),
    (4, 'Awful. It broke the first day and the seller never replied.',
        'A big brown dog barked at the mailman.', 'Wireless bluetooth headphones')
    ) v(id, review, note, product)"""


def test_shipped_weights_are_small_and_complete():
    files = {p.name: p.stat().st_size for p in MODEL_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files.keys()
    assert sum(files.values()) <= 25 * 2**20


def test_shipped_files_carry_no_path_of_the_training_machine():
    """The folder ships to every user: a path where the run wrote it (``/tmp/bm_G3``) says
    nothing about the model and tells about the machine that trained it."""
    absolute_path = re.compile(r'"(/|[A-Za-z]:\\\\)[^"/\\]+[/\\]')
    for f in MODEL_DIR.iterdir():
        if f.suffix != ".safetensors":
            assert not absolute_path.search(f.read_text(encoding="utf-8")), f.name


@pytest.fixture(scope="module")
def conn():
    with infersql.connect() as c:           # no model: the built-in one
        c.execute(ROWS)
        yield c


def _column(conn, expr: str) -> list:
    return [r[0] for r in conn.execute(f"SELECT {expr} FROM t ORDER BY id").fetchall()]


def test_review_sentiment_classify(conn):
    assert _column(conn, "LLM_CLASSIFY('What is the sentiment?', ['positive', 'negative'], review)") == [
        "positive", "negative", "positive", "negative"]


def test_review_sentiment_filter(conn):
    assert _column(conn, "LLM_FILTER('Is the review positive?', review)") == [True, False, True, False]


def test_mentions_a_dog(conn):
    assert _column(conn, "LLM_FILTER('Does the text mention a dog?', note)") == [True, False, False, True]


def test_kitchen_item(conn):
    assert _column(conn, "LLM_FILTER('Is the product a kitchen item?', product)") == [True, False, True, False]
    assert _column(conn, "LLM_CLASSIFY('What category is the product?', ['kitchen', 'toys', 'electronics'], "
                         "product)") == ["kitchen", "toys", "kitchen", "electronics"]


def test_free_text_is_clean_and_stops(conn):
    """Greedy text ends at EOS well before max_tokens, with no control or replacement chars."""
    got = conn.execute("SELECT LLM('What is the name of the person?', note, max_tokens := 24) "
                       "FROM t ORDER BY id").fetchall()
    for (text,) in got:
        assert text and len(text) < 60
        assert not any(unicodedata.category(ch)[0] == "C" or ch == "\ufffd" for ch in text)


def test_free_text_copies_a_number_or_a_word(conn):
    """Sentences unlike the training templates: a number, a year, a color, a single name."""
    cases = [("How many pages?", "The book has 312 pages.", "312"),
             ("How many minutes?", "We waited 25 minutes for the bus.", "25"),
             ("What is the year?", "The bridge was built in 1932.", "1932"),
             ("What color is the car?", "The car is red.", "red"),
             ("What is the name of the person?", "Maria called about the lamp.", "Maria")]
    got = [conn.execute("SELECT LLM(?, text) FROM (VALUES (?)) v(text)", [q, text]).fetchone()[0]
           for q, text, _ in cases]
    assert got == [want for _, _, want in cases]


@pytest.mark.xfail(strict=True, reason="current weights (G3): the name is copied whole, but asked for "
                                       "the price they answer 'Maria Lope' (F9 answered 'og')")
def test_free_text_copies_a_span(conn):
    got = conn.execute("SELECT LLM('What is the name of the person?', text), LLM('What is the price?', text) "
                       "FROM (VALUES ('Yesterday Maria Lopez called about the lamp. It cost 45 dollars.')) v(text)"
                       ).fetchone()
    assert got == ("Maria Lopez", "45")
