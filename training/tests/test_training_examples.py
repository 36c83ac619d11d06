"""What the built-in model is trained on: tokenizer, examples, the held-out split.

The shipped weights are checked in ``tests/test_builtin_model.py``; these tests check the recipe
that makes them, so a change to it cannot quietly break what the accuracy figures rest on:
answers are spans of the prompt token for token, held-out texts never occur in training, and
the recipe still draws what the shipped weights were trained on.
"""
import random
import re

import pytest

from training import data, lexicon, tasks
from training.fingerprint import fingerprint
from training.tokenizer import train_tokenizer
from training.train import vocabulary_texts

FREE_TEXT = ("extract", "exercise")       # families answered by copying a span, not by a choice


@pytest.fixture(scope="module")
def pools():
    return data.pools(None)


@pytest.fixture(scope="module")
def tokenizer(pools):
    rng = random.Random(0)
    texts = [e.prompt + e.answer for e in (tasks.sample(rng, pools[0]) for _ in range(400))]
    return train_tokenizer(texts, 600)


def test_a_copied_span_is_the_prompts_own_tokens(tokenizer):
    """The answer ``Hugo Larsen`` must be the tokens ``Hugo Larsen`` has inside the prompt
    (after ``name: ``), and decode back without the prefix space."""
    from executor.engine.requests_prep import encode_prompt

    for span in ["Hugo Larsen", "45", "Zurich", "kitchen"]:
        prompt = encode_prompt(tokenizer, f"Return the name.\nname: {span}\nnote: x\n", chat=True)
        answer = tokenizer.encode(span, add_special_tokens=False)
        assert any(prompt[i:i + len(answer)] == answer for i in range(len(prompt))), span
        assert tokenizer.decode(answer) == span


def test_examples_are_rendered_as_the_sql_functions_render(pools):
    from executor.llm_call import LLMCall

    rng = random.Random(1)
    for family in tasks.FAMILY_WEIGHTS:
        for _ in range(30):
            ex = tasks.sample(rng, pools[0], family)
            assert ex.family == family
            if family in FREE_TEXT:
                assert ex.choices is None and (ex.answer in ex.prompt or ex.answer == tasks.NO_NAME)
            else:
                assert ex.answer in ex.choices
                kind = "filter" if family == "filter" else "classify"
                lines = ex.prompt.rstrip("\n").split("\n")
                fields = [ln.split(": ", 1) for ln in lines[1:-1]]
                call = LLMCall(kind, "", lines[0], tuple(n for n, _ in fields), ex.choices if kind == "classify" else ())
                assert call.render([v for _, v in fields]) == ex.prompt


def test_held_out_words_never_reach_training(pools):
    train_pool, held = pools
    for attr in ("nouns", "first_names", "last_names", "cities"):
        assert not set(getattr(train_pool, attr)) & set(getattr(held, attr)), attr
    real = {w.lower() for w in lexicon.NOUNS + lexicon.FIRST_NAMES + lexicon.LAST_NAMES + lexicon.CITIES}
    assert not {w.lower() for w in train_pool.invented_nouns + train_pool.cities[-100:]} & real
    assert held.invented_nouns == []          # the figures are about real words


CHECK_PHRASES = ["fell asleep on", "barked at", "mailman", "to the vet", "weather was cold", "train was late"]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _asked_noun(question: str) -> str:
    """The X of a "mentions X" question, read back through the question's own template."""
    for template in tasks.MENTION_QUESTIONS:
        pattern = re.escape(template.replace("{a} {n}", "\0").replace("{n}", "\1"))
        pattern = pattern.replace("\x00", r"an? (\w+)").replace("\x01", r"(\w+?)")
        if m := re.fullmatch(pattern, question):
            return m.group(1)
    raise AssertionError(question)


def test_note_mentions_answer_truly(pools):
    """"Mentions X" over everyday notes: "yes" exactly when X (or its plural) is a word of the
    note, about half the time, and the notes never repeat a sentence of the shipped checks."""
    train_pool, _ = pools
    rng = random.Random(3)
    nouns = set(train_pool.nouns + train_pool.invented_nouns)
    yes = 0
    for _ in range(400):
        ex = tasks.f_note_mention(rng, train_pool)
        question, text = ex.prompt.split("\n")[0], ex.prompt.split("\n")[1].split(": ", 1)[1]
        noun = _asked_noun(question)
        assert noun in nouns
        named = bool({noun, noun + "s", noun + "es"} & _words(text))
        assert ex.answer == ("yes" if named else "no"), ex.prompt
        yes += named
        assert not [c for c in CHECK_PHRASES if c in text.lower()], text
    assert 0.4 < yes / 400 < 0.6
    for _ in range(200):
        ex = tasks.e_note_match(rng, train_pool)
        options = re.search(r"(?:: |mention )(.+?)\?", ex.prompt).group(1).split(", ")
        text = ex.prompt.split("\n")[1].split(": ", 1)[1]
        assert [o for o in options if {o, o + "s", o + "es"} & _words(text)] == [ex.answer]


def test_nouns_and_rare_words_are_kept_out_of_the_tokenizer_corpus(pools):
    """The tokenizer must cut nouns and the notes' rare words into pieces alike, so neither
    may reach its corpus; everything else of the prompt does, and the notes do use rare words."""
    rng = random.Random(6)
    notes = [tasks.f_note_mention(rng, pools[0]) for _ in range(300)]
    rare = set(lexicon.NOTE_ADJECTIVES + lexicon.NOTE_VERBS)
    unseen = rare | {w + s for w in lexicon.NOUNS for s in ("", "s", "es")}
    texts = list(vocabulary_texts(notes))
    assert not [t for t in texts if _words(t) & unseen]
    assert all(_words(t) == _words(e.prompt + e.answer) - unseen for t, e in zip(texts, notes))
    assert 0.1 < sum(bool(_words(e.prompt) & rare) for e in notes) / len(notes) < 0.6


def test_a_year_question_is_answered_with_a_year(pools):
    rng = random.Random(4)
    for _ in range(300):
        ex = tasks.e_number(rng, pools[0])
        if "year" in ex.prompt.split("\n")[0].lower() or "come out" in ex.prompt:
            assert 1800 <= int(ex.answer) <= 2030


def test_growing_one_word_list_moves_no_other_split(monkeypatch):
    """Each list is split by a generator of its own: adding a noun keeps the held-out names
    and cities (and, with ``--data``, movies) where they were, so figures stay comparable."""
    before = data.pools(None)[1]
    monkeypatch.setattr(lexicon, "NOUNS", lexicon.NOUNS + [f"gadget{i}" for i in range(60)])
    after = data.pools(None)[1]
    assert (after.first_names, after.last_names, after.cities) == (before.first_names, before.last_names,
                                                                  before.cities)
    assert after.nouns != before.nouns


def test_copy_first_part_comes_first(pools):
    rng = random.Random(2)
    exs = tasks.training_examples(rng, pools[0], 3000, copy_first=0.3)
    copying = lambda part: sum(e.family in FREE_TEXT for e in part) / len(part)  # noqa: E731
    assert copying(exs[:900]) > 0.6 > copying(exs[900:])


# A run with the shipped run's seed and copy-first share, at a size a test can draw in a second.
SMALL_RUN_FINGERPRINT = "824a8a748ecebcd019447adf59d5f65b5946324c86f15a7fea567e6580d77813"


def test_the_recipe_still_draws_what_the_shipped_weights_were_trained_on():
    """The shipped weights come out of the one command again only if the recipe draws the very
    same examples, tokenizer corpus, in-run check and held-out list. A change meant to keep
    them (a refactor) must keep this hash; a change of the recipe must come with retrained
    weights, this hash, and the full run's (``python -m training.fingerprint``, recorded in
    training/README.md)."""
    assert fingerprint(None, seed=1, examples=2000, copy_first=0.2, per_family=20) == SMALL_RUN_FINGERPRINT


def test_a_wrong_data_folder_is_a_clear_error_not_a_traceback(tmp_path):
    import subprocess
    import sys

    for module in ("training.evaluate", "training.train"):
        done = subprocess.run([sys.executable, "-m", module, "--data", str(tmp_path / "none")],
                              capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "has no movies.csv, products.csv, beer.csv" in done.stderr
