"""How the built-in model is made: tokenizer, training set, held-out split, the one command.

The shipped weights are checked in ``test_builtin_model.py``; these tests check the recipe that
makes them, so a change to it cannot quietly break what the accuracy figures rest on: answers
are spans of the prompt token for token, held-out texts never occur in training, and
``python -m infersql.builtin_model.train`` writes a folder the engine loads.
"""
import json
import random
import re

import pytest

from infersql.builtin_model import data, evaluate, lexicon, tasks, train
from infersql.builtin_model.tokenizer import train_tokenizer

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
    from infersql.builtin_model.train import vocabulary_texts

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


def test_the_one_command_trains_a_model_the_engine_loads(tmp_path):
    """A few steps of the real command; ``evaluate`` then finds every training prompt again
    from the recorded arguments, and scores through the engine."""
    import torch

    out = tmp_path / "model"
    threads = torch.get_num_threads()
    try:
        train.main(["--examples", "120", "--out", str(out), "--vocab", "400", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)        # the command sets it for its process
    args = json.loads((out / evaluate.TRAINING_ARGS).read_text())
    assert args["examples"] == 120 and args["seed"] == 1      # the shipped weights' seed
    seen = evaluate.training_fields(out, None)
    rng = random.Random(args["seed"])
    train_pool, _ = data.pools(None)
    again = tasks.training_examples(rng, train_pool, 120, args["copy_first"])
    assert {evaluate._fields(e) for e in again} == seen
    held = evaluate.held_out(None, 3, seen)
    assert held and not {evaluate._fields(e) for e in held} & seen
    answers = evaluate.score(out, held)
    assert len(answers) == len(held)
    for ex, got in zip(held, answers):
        if ex.choices:
            assert got in ex.choices          # constrained decoding: always one of them


def test_dropping_a_seen_example_leaves_the_rest_of_the_held_out_list_alone():
    """Two runs train on different sets, so each drops different held-out examples; their
    figures compare only if every example neither run saw is the same in both lists."""
    full = evaluate.held_out(None, 8, set())
    assert len({e.prompt for e in full}) == len(full)
    dropped = full[3]
    again = evaluate.held_out(None, 8, {evaluate._fields(dropped)})
    assert dropped not in again and len(again) == len(full)
    assert [e for e in again if e in full] == [e for e in full if e is not dropped]
    replacement, = [e for e in again if e not in full]
    assert (replacement.family, replacement.task) == (dropped.family, dropped.task)


@pytest.fixture(scope="module")
def tiny_llama(model_factory):
    """The shared tiny random Llama (``conftest.model_factory``): ``loss_fn`` needs its
    ``.model`` and ``.lm_head``, as the built-in model has them."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_factory("llama")).eval()


def test_each_example_weighs_the_same_in_the_answer_loss(tiny_llama):
    """A one-token yes/no beside a five-token copy: with ``per_example`` each answer's mean
    counts once, so the decision is half the loss, not a sixth."""
    import torch
    import torch.nn.functional as F

    items = [([5, 6, 7, 8], [9, 0]), ([5, 6], [10, 11, 12, 13, 14, 0])]     # answers end in EOS 0
    ids, mask, labels = train.collate(items, pad_id=0)
    with torch.no_grad():
        per_token = F.cross_entropy(tiny_llama(input_ids=ids).logits[:, :-1].transpose(1, 2),
                                    labels[:, 1:], reduction="none", ignore_index=-100)
        got = train.loss_fn(tiny_llama, ids, mask, labels, prompt_weight=0.0, per_example=True)
        flat = train.loss_fn(tiny_llama, ids, mask, labels, prompt_weight=0.0, per_example=False)
    first, second = per_token[0, 3:5], per_token[1, 1:7]
    assert torch.allclose(got, (first.mean() + second.mean()) / 2)
    assert torch.allclose(flat, torch.cat([first, second]).mean())
    assert not torch.allclose(got, flat)


def test_right_padding_needs_no_attention_mask(tiny_llama):
    """``quick_accuracy`` runs the model without a mask: a right-padded row's real tokens must get the
    same hidden states as they do alone."""
    import torch

    items = [([3, 4, 5, 6, 7, 8, 9], [10, 0]), ([3, 4], [11, 0])]
    ids, mask, _ = train.collate(items, pad_id=0)
    with torch.no_grad():
        padded = tiny_llama.model(input_ids=ids).last_hidden_state
        alone = tiny_llama.model(input_ids=ids[1:, :4]).last_hidden_state
    assert mask[1].tolist() == [1] * 4 + [0] * 5
    assert torch.allclose(padded[1, :4], alone[0], atol=1e-5)
