"""Synthetic instruction examples shaped exactly like the prompts the SQL functions build.

Why: the built-in model must answer ``LLM_FILTER``, ``LLM_CLASSIFY`` and ``LLM`` prompts, so
every example is rendered by ``executor.llm_call.LLMCall.render``, the very code the runtime uses
(instruction line, ``name: value`` lines, then the yes/no or label suffix). Each generator
states one task in many ways; ``Pools`` decides which words and real rows a split may use, so
held-out examples use texts (and, for the copy tasks, whole words) that training never saw.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from executor.llm_call import LLMCall

from . import lexicon as lx


@dataclass(frozen=True)
class Example:
    family: str            # "filter", "classify" or "extract": the accuracy report's rows
    task: str              # the generator's name, for per-task figures
    prompt: str            # exactly what LLMCall.render gives
    answer: str            # the label text, "yes"/"no", or the span to copy
    choices: tuple[str, ...] | None = None


@dataclass
class Pools:
    """The words and real rows one split may draw from."""
    nouns: list[str]
    first_names: list[str]
    last_names: list[str]
    cities: list[str]
    movie_reviews: list[tuple[str, bool]] = field(default_factory=list)   # (text, positive)
    product_reviews: list[tuple[str, bool]] = field(default_factory=list)
    movie_rows: list[dict] = field(default_factory=list)
    beer_rows: list[dict] = field(default_factory=list)
    product_rows: list[dict] = field(default_factory=list)
    invented_nouns: list[str] = field(default_factory=list)  # training only: see data.py


def _make(family: str, task: str, kind: str, instruction: str, fields: list[tuple[str, str]],
          answer: str, labels: tuple[str, ...] = ()) -> Example:
    call = LLMCall(kind, "", instruction, tuple(n for n, _ in fields), labels)
    prompt = call.render([v for _, v in fields])
    return Example(family, task, prompt, answer, tuple(call.choices) if call.choices else None)


def _filter(task, instruction, fields, yes: bool) -> Example:
    return _make("filter", task, "filter", instruction, fields, "yes" if yes else "no")


def _classify(task, instruction, fields, answer, labels) -> Example:
    return _make("classify", task, "classify", instruction, fields, answer, tuple(labels))


def _extract(task, instruction, fields, answer) -> Example:
    return _make("extract", task, "llm", instruction, fields, answer)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


# ---- texts ---------------------------------------------------------------------------------
def review_text(rng: random.Random, positive: bool | None, thing: str, nouns: list[str]) -> str:
    """A clear-cut review: ``positive=None`` gives a neutral one."""
    if positive is None:
        parts = [rng.choice(lx.NEUTRAL_SENTENCES).format(thing=thing)]
    else:
        adjs = lx.POSITIVE if positive else lx.NEGATIVE
        phrases = lx.POS_PHRASES if positive else lx.NEG_PHRASES
        e, f = rng.sample(lx.POS_EVENTS if positive else lx.NEG_EVENTS, 2)
        a, b = rng.sample(adjs, 2)
        forms = [f"The {thing} was {a}.", f"What {_article(a)} {a} {thing}!", f"{_cap(a)} {thing}.",
                 f"This {thing} is {a} and {b}.", f"Honestly {a}.", f"A {a}, {b} {thing}.",
                 f"{_cap(a)} from start to finish.", f"It was {a}, really {b}.",
                 f"{_cap(rng.choice(phrases))}.", f"The {thing} is {a}; {rng.choice(phrases)}.",
                 f"I found it {a}.", f"Simply {a}. {_cap(rng.choice(phrases))}.",
                 f"{_cap(a)}.", f"{_cap(a)}!", f"{_cap(e)}.", f"{_cap(e)} and {f}.",
                 f"{_cap(a)}. {_cap(e)}.", f"{_cap(e)}, {rng.choice(phrases)}."]
        parts = rng.sample(forms, rng.choice([1, 2, 2, 3]))
    if rng.random() < 0.4:      # a sentence that judges nothing, in either kind of review
        n1, n2 = rng.sample(nouns, 2)
        neutral = rng.choice(lx.FILLER).format(a=n1, b=n2) if rng.random() < 0.5 else note_text(rng, nouns, 1)[0]
        parts.insert(rng.randrange(len(parts) + 1), neutral)
    return " ".join(parts)


def filler_text(rng: random.Random, nouns: list[str], k: int) -> tuple[str, set[str]]:
    """1-3 plain sentences, and the nouns they mention."""
    used: set[str] = set()
    out = []
    for _ in range(k):
        a, b = rng.sample(nouns, 2)
        s = rng.choice(lx.FILLER)
        used |= {a} | ({b} if "{b}" in s else set())
        out.append(s.format(a=a, b=b))
    return " ".join(out), used


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def note_sentence(rng: random.Random, nouns: list[str]) -> tuple[str, set[str]]:
    """One everyday sentence from ``lexicon``'s NOTE parts, and the nouns it names."""
    n, m = rng.sample(nouns, 2)
    adj, adj2 = rng.sample(lx.NOTE_ADJECTIVES, 2)
    v, v2 = rng.sample(lx.NOTE_VERBS, 2)
    rare = dict(adj=adj, adj2=adj2, v=v, v2=v2)
    r = rng.random()
    if r < 0.5:
        pred = rng.choice(lx.NOTE_PREDICATES)
        if rng.random() < 0.3:
            subj, used = rng.choice(lx.NOTE_PEOPLE), set()
            plural = subj in lx.NOTE_PLURAL_PEOPLE
        else:
            subj = rng.choice(lx.NOTE_SUBJECTS)
            if "{ns}" in subj and n.endswith("y"):
                subj = "the {n}"
            plural = "{ns}" in subj
            subj, used = subj.format(n=n, ns=_plural(n), **rare), {n}
        if plural:
            pred = re.sub(r"^was\b", "were", pred)
        s = f"{subj} {pred.format(m=m, **rare)}"
        used |= {m} if "{m}" in pred else set()
    elif r < 0.85:
        clause = rng.choice(lx.NOTE_CLAUSES)
        s = clause.format(a=_article(rare["adj"] if "{a} {adj}" in clause else n), n=n, m=m, **rare)
        used = {n} | ({m} if "{m}" in clause else set())
    else:
        return rng.choice(lx.NOTE_PLAIN), set()
    if rng.random() < 0.3:
        s += " " + rng.choice(lx.NOTE_TAILS)
    if rng.random() < 0.3:
        s = rng.choice(lx.NOTE_OPENERS) + ", " + (s if s.startswith("I ") else s[0].lower() + s[1:])
    return _cap(s) + ".", used


def _text_naming(rng: random.Random, text_of, nouns: list[str], must_name: bool) -> tuple[str, set[str]]:
    """One or two sentences from ``text_of(rng, nouns, k)`` and the nouns they name, drawn again
    while ``must_name`` and they name none (a note can be all plain sentences)."""
    text, used = text_of(rng, nouns, rng.choice([1, 2]))
    while must_name and not used:
        text, used = text_of(rng, nouns, rng.choice([1, 2]))
    return text, used


def note_text(rng: random.Random, nouns: list[str], k: int) -> tuple[str, set[str]]:
    """``k`` everyday sentences (``note_sentence``), and the nouns they name."""
    out, used = [], set()
    for _ in range(k):
        s, u = note_sentence(rng, nouns)
        out.append(s)
        used |= u
    return " ".join(out), used


def product_name(rng: random.Random, category: str) -> str:
    item = rng.choice(lx.CATEGORY_WORDS[category])
    parts = [item]
    if rng.random() < 0.6:
        parts.insert(0, rng.choice(lx.PRODUCT_MODIFIERS))
    if rng.random() < 0.5:
        parts.insert(0, rng.choice(lx.BRANDS))
    name = " ".join(parts)
    name = _cap(name) if rng.random() < 0.5 else name.title()
    if rng.random() < 0.3:      # store titles often say who or what it is for
        name += " " + rng.choice(lx.PRODUCT_SUFFIXES)
    return name


INVENTED_SHARE = 0.4      # 0.7 (run Y) did not lift held-out mentions: 62% against 66%


def mention_nouns(rng: random.Random, p: Pools) -> list[str]:
    """The nouns a synthetic mention text draws from: in training, invented ones
    ``INVENTED_SHARE`` of the time, so that "is X mentioned" cannot be answered from memory of
    the few real nouns."""
    return p.invented_nouns if p.invented_nouns and rng.random() < INVENTED_SHARE else p.nouns


def absent_noun(rng: random.Random, nouns: list[str], used: set[str]) -> str:
    """A noun the text does not name; half the time one that begins as a named one does
    (``duck`` in the text, asked about ``dog``). Nouns are cut into pieces, and a random
    absent noun almost never shares the first one, so without these the model could answer
    from the first piece alone (run F8: held-out "no" answers right 70% of the time)."""
    absent = [n for n in nouns if n not in used]
    if rng.random() < 0.5:
        alike = [n for n in absent if any(n[:2] == u[:2] for u in used)] or \
                [n for n in absent if any(n[0] == u[0] for u in used)]
        if alike:
            return rng.choice(alike)
    return rng.choice(absent)


def _mentions(text: str, noun: str) -> bool:
    return re.search(rf"\b{re.escape(noun)}(s|es)?\b", text, re.IGNORECASE) is not None


# ---- LLM_FILTER ----------------------------------------------------------------------------
REVIEW_FIELDS = ["review", "text", "comment", "feedback", "body", "review_text", "content", "reviewcontent"]
POS_QUESTIONS = ["Is the review positive?", "Is this review positive?", "Is the sentiment positive?",
                 "Did the reviewer like the {thing}?", "Is the customer happy?", "Does the critic recommend it?",
                 "Is this a good review?", "Is the text positive?", "Did they enjoy it?", "Is the feedback positive?",
                 "Does the reviewer recommend the {thing}?", "Is the opinion favorable?", "Is it a positive review?"]
NEG_QUESTIONS = ["Is the review negative?", "Is this review negative?", "Is the customer unhappy?",
                 "Did the reviewer dislike the {thing}?", "Is this a bad review?", "Is the sentiment negative?",
                 "Is the customer complaining?", "Is the text negative?", "Is the feedback negative?",
                 "Is it a negative review?", "Did they hate it?"]


def sentiment_question(rng, thing, positive: bool) -> tuple[str, bool]:
    """Mostly positive-asking: with both kinds equally common the answer is the XOR of two
    features, which gives a model trained from scratch no first-order gradient to start from."""
    ask_pos = rng.random() < 0.75
    q = rng.choice(POS_QUESTIONS if ask_pos else NEG_QUESTIONS).format(thing=thing)
    return q, positive == ask_pos


def f_sentiment(rng: random.Random, p: Pools) -> Example:
    thing, positive = rng.choice(lx.THINGS), rng.random() < 0.5
    q, yes = sentiment_question(rng, thing, positive)
    fields = [(rng.choice(REVIEW_FIELDS), review_text(rng, positive, thing, p.nouns))]
    if rng.random() < 0.3:
        fields.insert(rng.randrange(2), (rng.choice(["title", "product", "movie", "name"]), _cap(thing)))
    return _filter("sentiment", q, fields, yes)


def f_real_sentiment(rng: random.Random, p: Pools) -> Example:
    movie = rng.random() < 0.7 or not p.product_reviews
    text, positive = rng.choice(p.movie_reviews if movie else p.product_reviews)
    thing = "movie" if movie else "product"
    q, yes = sentiment_question(rng, thing, positive)
    return _filter("real_sentiment", q, [(rng.choice(REVIEW_FIELDS), text)], yes)


MENTION_QUESTIONS = ["Does the text mention {a} {n}?", "Is there {a} {n} in the text?", "Does the review mention {a} {n}?",
                     "Is {a} {n} mentioned?", "Does the story include {a} {n}?", "Does it mention {n}s?",
                     "Does the text talk about {a} {n}?", "Is the text about {a} {n}?", "Does the description mention the {n}?",
                     "Is there any {n} in it?", "Does {a} {n} appear?", "Mentions {a} {n}?"]
TEXT_FIELDS = ["text", "description", "review", "story", "comment", "sentence", "body", "summary", "note"]


def _mention_question(rng: random.Random, task: str, text: str, noun: str) -> Example:
    """"Does the text mention ``noun``?" in one of its phrasings; the answer is the text's."""
    q = rng.choice(MENTION_QUESTIONS).format(a=_article(noun), n=noun)
    return _filter(task, q, [(rng.choice(TEXT_FIELDS), text)], _mentions(text, noun))


def f_mention(rng: random.Random, p: Pools) -> Example:
    real = (p.movie_rows or p.product_rows) and rng.random() < 0.3
    if real:
        row = rng.choice(p.movie_rows + p.product_rows)
        text = (row.get("movieinfo") or row.get("text") or "")[:300]
        present = [n for n in lx.NOUNS if _mentions(text, n)]
        askable = [n for n in present if n in p.nouns]      # never a held-out noun in training
        yes = bool(askable) and rng.random() < 0.5
        noun = rng.choice(askable) if yes else rng.choice([n for n in p.nouns if n not in present])
    else:
        nouns = mention_nouns(rng, p)
        text, used = filler_text(rng, nouns, rng.choice([1, 2, 2, 3]))
        yes = rng.random() < 0.5
        noun = rng.choice(sorted(used)) if yes else absent_noun(rng, nouns, used)
    return _mention_question(rng, "mention", text, noun)


def f_note_mention(rng: random.Random, p: Pools) -> Example:
    """"Mentions X" over an everyday note (``note_text``), X named anywhere in it or nowhere."""
    nouns = mention_nouns(rng, p)
    yes = rng.random() < 0.5
    text, used = _text_naming(rng, note_text, nouns, must_name=yes)
    noun = rng.choice(sorted(used)) if yes else absent_noun(rng, nouns, used)
    return _mention_question(rng, "note_mention", text, noun)


PRODUCT_FIELDS = ["product", "product_title", "item", "name", "title", "product_name"]
CATEGORY_QUESTIONS = ["Is the product {a} {c}?", "Is this {a} {c}?", "Is it {a} {c}?", "Is the item {a} {c}?",
                      "Does the product belong in the {k} category?", "Is this product for the {k} department?",
                      "Would you find this in the {k} aisle?", "Is the product {a} {c} or not?"]


def f_category(rng: random.Random, p: Pools) -> Example:
    cat = rng.choice(list(lx.CATEGORY_WORDS))
    asked = cat if rng.random() < 0.5 else rng.choice([c for c in lx.CATEGORY_WORDS if c != cat])
    name = rng.choice(lx.CATEGORY_NAMES[asked])
    q = rng.choice(CATEGORY_QUESTIONS).format(a=_article(name), c=name, k=asked)
    fields = [(rng.choice(PRODUCT_FIELDS), product_name(rng, cat))]
    if rng.random() < 0.25:
        fields.append(("price", f"{rng.randint(3, 300)}.{rng.choice(['00', '99', '49'])}"))
    return _filter("category", q, fields, cat == asked)


def f_fact(rng: random.Random, p: Pools) -> Example:
    """A fact stated in the fields: a value equals, contains, or passes a threshold."""
    kind = rng.randrange(5)
    if kind == 0:
        value, asked = rng.choice(lx.COLORS), rng.choice(lx.COLORS)
        asked = value if rng.random() < 0.5 else asked
        thing = rng.choice(lx.THINGS)
        q = rng.choice(["Is the color {x}?", "Is the {t} {x}?", "Is it {x}?"]).format(x=asked, t=thing)
        return _filter("fact", q, [("item", thing), ("color", value)], value == asked)
    if kind == 1:
        value = rng.choice(p.cities)
        asked = value if rng.random() < 0.5 else rng.choice(p.cities)
        person = rng.choice(p.first_names)
        text = rng.choice(["{p} lives in {c}.", "{p} moved to {c} last year.", "{p} was born in {c}.",
                           "The office of {p} is in {c}."]).format(p=person, c=value)
        q = rng.choice(["Is the city {x}?", "Does {p} live in {x}?", "Is {x} mentioned?",
                        "Is the place {x}?"]).format(x=asked, p=person)
        fields = [(rng.choice(["text", "bio", "note"]), text)] if rng.random() < 0.5 else [
            ("name", person), ("city", value)]
        return _filter("fact", q, fields, value == asked)
    if kind == 2:
        genres = rng.sample(lx.GENRES, rng.choice([1, 2, 3]))
        asked = rng.choice(genres) if rng.random() < 0.5 else rng.choice(lx.GENRES)
        q = rng.choice(["Is the movie {a} {g}?", "Is it {a} {g}?", "Is the genre {g}?",
                        "Is this {a} {g} film?"]).format(a=_article(asked.lower()), g=asked.lower())
        fields = [("title", rng.choice(["The", "A", "Last", "Night", "Blue"]) + " " + _cap(rng.choice(p.nouns))),
                  (rng.choice(["genre", "genres"]), ", ".join(genres))]
        return _filter("fact", q, fields, asked in genres)
    if kind == 3:
        top = rng.choice([5, 10])
        value, t = rng.randint(1, top), rng.randint(1, top)
        op = rng.randrange(4)
        q = ["Is the rating above {t}?", "Is the rating at least {t}?", "Is the rating below {t}?",
             "Is the score {t} or more?"][op].format(t=t)
        yes = [value > t, value >= t, value < t, value >= t][op]
        fields = [("name", rng.choice(lx.THINGS)), (rng.choice(["rating", "score", "stars"]), str(value))]
        if top == 10 or rng.random() < 0.3:
            fields[1] = (fields[1][0], f"{value}/{top}")
        return _filter("fact", q, fields, yes)
    flag = rng.random() < 0.5
    name, q = rng.choice([("verified_purchase", "Is the purchase verified?"), ("topcritic", "Is the critic a top critic?"),
                          ("in_stock", "Is the item in stock?"), ("is_active", "Is the account active?")])
    return _filter("fact", q, [("id", str(rng.randint(1, 9999))), (name, str(flag))], flag)


# ---- LLM_CLASSIFY ---------------------------------------------------------------------------
SENTIMENT_LABELS = [("positive", "negative", "neutral"), ("Positive", "Negative", "Neutral"),
                    ("good", "bad", None), ("happy", "unhappy", None), ("like", "dislike", None),
                    ("pos", "neg", "neu"), ("praise", "complaint", None)]
SENTIMENT_INSTRUCTIONS = ["What is the sentiment?", "Classify the sentiment of the review.",
                          "How does the reviewer feel?", "Is the review positive or negative?", "Sentiment?",
                          "Label the tone of the text.", "What is the overall opinion?"]


def _shuffled(rng, labels) -> list[str]:
    labels = list(labels)
    rng.shuffle(labels)
    return labels


def c_sentiment(rng: random.Random, p: Pools) -> Example:
    pos, neg, neu = rng.choice(SENTIMENT_LABELS)
    labels = [pos, neg] + ([neu] if neu and rng.random() < 0.5 else [])
    answer = rng.choice(labels)
    polarity = {pos: True, neg: False, neu: None}[answer]
    thing = rng.choice(lx.THINGS)
    text = review_text(rng, polarity, thing, p.nouns)
    return _classify("sentiment", rng.choice(SENTIMENT_INSTRUCTIONS),
                     [(rng.choice(REVIEW_FIELDS), text)], answer, _shuffled(rng, labels))


def c_real_sentiment(rng: random.Random, p: Pools) -> Example:
    text, positive = rng.choice(p.movie_reviews)
    if rng.random() < 0.5:
        labels, answer, q = ["Fresh", "Rotten"], "Fresh" if positive else "Rotten", rng.choice(
            ["Is the review Fresh or Rotten?", "Classify the review.", "Fresh or rotten?"])
    else:
        labels, answer = ["positive", "negative"], "positive" if positive else "negative"
        q = rng.choice(SENTIMENT_INSTRUCTIONS)
    return _classify("real_sentiment", q, [(rng.choice(REVIEW_FIELDS), text)], answer, _shuffled(rng, labels))


TOPIC_INSTRUCTIONS = ["What is the topic?", "Classify the topic of the article.", "Which section does this belong to?",
                      "What is the text about?", "Pick the topic.", "Which category fits the news story?"]


def c_topic(rng: random.Random, p: Pools) -> Example:
    labels = rng.sample(list(lx.TOPICS), rng.randint(2, 5))
    answer = rng.choice(labels)
    words = rng.sample(lx.TOPICS[answer], 3)
    text = rng.choice(lx.TOPIC_TEMPLATES).format(a=words[0], b=words[1], c=words[2])
    if rng.random() < 0.3:
        text += " " + rng.choice(lx.TOPIC_TEMPLATES).format(*[], a=words[2], b=rng.choice(lx.TOPICS[answer]), c=words[0])
    shown = [lab.capitalize() for lab in labels] if rng.random() < 0.3 else labels
    return _classify("topic", rng.choice(TOPIC_INSTRUCTIONS), [(rng.choice(["text", "headline", "article", "title", "body"]), text)],
                     shown[labels.index(answer)], shown)


CATEGORY_INSTRUCTIONS = ["What category is the product?", "Classify the product.", "Which department sells this?",
                         "Pick the product category.", "What kind of product is it?", "Which aisle?"]


def c_category(rng: random.Random, p: Pools) -> Example:
    labels = rng.sample(list(lx.CATEGORY_WORDS), rng.randint(2, 5))
    answer = rng.choice(labels)
    shown = [lab.capitalize() for lab in labels] if rng.random() < 0.3 else labels
    return _classify("category", rng.choice(CATEGORY_INSTRUCTIONS),
                     [(rng.choice(PRODUCT_FIELDS), product_name(rng, answer))], shown[labels.index(answer)], shown)


# ---- LLM (extraction) -----------------------------------------------------------------------
NO_NAME = "none"


def e_name(rng: random.Random, p: Pools) -> Example:
    if rng.random() < 0.15:     # nobody in the text: a clean "none", not a copy of the prompt
        text = _text_naming(rng, note_text, mention_nouns(rng, p), must_name=False)[0]
        return _extract("name", rng.choice(["What is the name of the person?", "Who is mentioned?",
                                            "Extract the person's name."]),
                        [(rng.choice(TEXT_FIELDS), text)], NO_NAME)
    name = rng.choice(p.first_names) + (" " + rng.choice(p.last_names) if rng.random() < 0.6 else "")
    thing = rng.choice(lx.THINGS)
    text = rng.choice([
        "{n} bought the {t} last week and {ph}.", "According to {n}, the {t} was {adj}.",
        "My name is {n} and I think the {t} is {adj}.", "Review by {n}: {adj} {t}.",
        "The {t} was given to {n} as a gift.", "{n} said the {t} was {adj}.",
        "Yesterday {n} called about the {t}.", "I met {n} at the {noun}.",
    ]).format(n=name, t=thing, ph=rng.choice(lx.POS_PHRASES + lx.NEG_PHRASES),
              adj=rng.choice(lx.POSITIVE + lx.NEGATIVE), noun=rng.choice(p.nouns))
    q = rng.choice(["What is the name of the person?", "Who wrote this?", "Extract the person's name.",
                    "Who is mentioned?", "Name the person.", "Which person is mentioned in the text?",
                    "Return the name."])
    return _extract("name", q, [(rng.choice(TEXT_FIELDS), text)], name)


def e_number(rng: random.Random, p: Pools) -> Example:
    thing = rng.choice(lx.THINGS)
    text, q, year = rng.choice([
        ("The {t} costs {n} dollars.", ["What is the price?", "How much does it cost?", "Extract the price."], False),
        ("I waited {n} minutes for the {t}.", ["How many minutes?", "How long was the wait in minutes?"], False),
        ("The {t} has {n} pages and a {noun} on the cover.", ["How many pages?", "Extract the page count."], False),
        ("We sold {n} units of the {t}.", ["How many units were sold?", "What is the number?"], False),
        ("Order number {n}: one {t}.", ["What is the order number?", "Extract the order number."], False),
        ("The {noun} weighs {n} kg.", ["What is the weight?", "How heavy is it in kg?"], False),
        ("The {t} came out in {n}.", ["What is the year?", "In which year?", "When did it come out?"], True),
        ("The {noun} was made in {n}.", ["What year was it made?", "What is the year?"], True),
    ])
    if year:                    # a year, and the number the sentence's full stop follows
        n = str(rng.randint(1800, 2030))
    else:
        n = str(rng.randint(1, 999)) if rng.random() < 0.8 else f"{rng.randint(1, 99)}.{rng.randint(10, 99)}"
    text = text.format(t=thing, n=n, noun=rng.choice(p.nouns))
    if rng.random() < 0.3:
        text += " " + filler_text(rng, p.nouns, 1)[0]
    return _extract("number", rng.choice(q + ["Extract the number.", "What number is mentioned?"]),
                    [(rng.choice(TEXT_FIELDS), text)], n)


def e_word(rng: random.Random, p: Pools) -> Example:
    if rng.random() < 0.5:
        color, thing = rng.choice(lx.COLORS), rng.choice(lx.THINGS + p.nouns)
        text = rng.choice(["The {t} is {c}.", "I painted the {t} {c}.", "She wore a {c} {t}.",
                           "A {c} {t} stood by the door."]).format(t=thing, c=color)
        q = rng.choice([f"What color is the {thing}?", "What color is mentioned?", "Extract the color."])
        return _extract("word", q, [(rng.choice(TEXT_FIELDS), text)], color)
    city = rng.choice(p.cities)
    text = rng.choice(["We flew to {c} for the weekend.", "The conference takes place in {c}.",
                       "{p} grew up in {c}.", "Our hotel in {c} was {adj}."]).format(
        c=city, p=rng.choice(p.first_names), adj=rng.choice(lx.POSITIVE + lx.NEGATIVE))
    q = rng.choice(["Which city is mentioned?", "Extract the city.", "Where did it happen?", "What is the city?"])
    return _extract("word", q, [(rng.choice(TEXT_FIELDS), text)], city)


def e_field(rng: random.Random, p: Pools) -> Example:
    """Copy one field's value among several: the answer depends on the field's name."""
    real = []
    if p.beer_rows:
        r = rng.choice(p.beer_rows)
        real.append(([("name", r["beer/name"]), ("style", r["beer/style"]), ("overall", r["review/overall"])],
                     {"name": ["What is the beer's name?", "Return the name."], "style": ["What style is the beer?", "Extract the style."],
                      "overall": ["What is the overall rating?", "Return the overall score."]}))
    if p.movie_rows:
        r = rng.choice(p.movie_rows)
        real.append(([("movietitle", r["movietitle"]), ("productioncompany", r["productioncompany"])],
                     {"movietitle": ["What is the movie title?", "Return the title."],
                      "productioncompany": ["Who produced the movie?", "What is the production company?"]}))
    if real and rng.random() < 0.4:
        fields, questions = rng.choice(real)
    else:
        person = rng.choice(p.first_names) + " " + rng.choice(p.last_names)
        fields = [("title", "The " + _cap(rng.choice(p.nouns)) + " of " + rng.choice(p.cities)),
                  ("author", person), ("year", str(rng.randint(1900, 2025))), ("city", rng.choice(p.cities))]
        fields = rng.sample(fields, rng.randint(2, 4))
        questions = {"title": ["What is the title?", "Return the title."], "author": ["Who is the author?", "Who wrote it?"],
                     "year": ["What year?", "When was it published?"], "city": ["Which city?", "Where was it published?"]}
    name, value = rng.choice(fields)
    return _extract("field", rng.choice(questions[name]), fields, value)


# ---- exercises: taught for the skills behind the tasks, reported as a family of their own ------
def _exercise(task, instruction, fields, answer) -> Example:
    return _make("exercise", task, "llm", instruction, fields, answer)


def _which_mentioned(rng: random.Random, p: Pools, task: str, text_of) -> Example:
    """Which of the words in the question occurs in the text: the comparison behind "mentions
    X", with an answer that names the match rather than one yes/no token. ``text_of(rng,
    nouns, k)`` gives ``k`` sentences and the nouns they name."""
    nouns = mention_nouns(rng, p)
    text, used = _text_naming(rng, text_of, nouns, must_name=True)
    hit = rng.choice(sorted(used))
    options = [hit] + rng.sample([n for n in nouns if n not in used], rng.randint(1, 3))
    rng.shuffle(options)
    q = rng.choice(["Which of these is mentioned: {o}?", "Which word appears in the text: {o}?",
                    "Does the text mention {o}? Name it."]).format(o=", ".join(options))
    return _exercise(task, q, [(rng.choice(TEXT_FIELDS), text)], hit)


def e_match(rng: random.Random, p: Pools) -> Example:
    return _which_mentioned(rng, p, "match", filler_text)


def e_note_match(rng: random.Random, p: Pools) -> Example:
    """``e_match`` over an everyday note (``note_text``)."""
    return _which_mentioned(rng, p, "note_match", note_text)


def e_repeat(rng: random.Random, p: Pools) -> Example:
    """Repeat a field verbatim: every answer token is a copy, where the tasks' answers have two
    or three. Copies of unseen words drift into likelier ones (``Warsaw`` -> ``Warsonto``);
    this is the densest signal against that."""
    if p.movie_reviews and rng.random() < 0.4:
        words = rng.choice(p.movie_reviews)[0].split()
        start = rng.randrange(max(1, len(words) - 12))
        # words only: a copy that ran on through punctuation answered "1932." for a year
        value = re.sub(r"[^\w' ]+", "", " ".join(words[start:start + rng.randint(4, 12)]))
        value = " ".join(value.split()) or rng.choice(p.nouns)
    else:
        pool = rng.choice([p.first_names, p.last_names, p.cities, p.invented_nouns or p.nouns, p.nouns])
        value = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
    name = rng.choice(["code", "line", "words", "value", "text", "name", "tag"])
    fields = [(name, value)]
    if rng.random() < 0.5:
        fields.insert(rng.randint(0, 1), ("id", str(rng.randint(1, 9999))))
    q = rng.choice(["Repeat the {f} exactly.", "Copy the {f}.", "Write the {f} again.",
                    "Return the {f} as it is.", "What is the {f}?"]).format(f=name)
    return _exercise("repeat", q, fields, value)


GENERATORS = {
    "filter": [(f_sentiment, 2), (f_real_sentiment, 2), (f_mention, 1), (f_note_mention, 2), (f_category, 3),
               (f_fact, 3)],
    "classify": [(c_sentiment, 3), (c_real_sentiment, 1), (c_topic, 2), (c_category, 3)],
    "extract": [(e_name, 2), (e_number, 1), (e_word, 2), (e_field, 3)],
    "exercise": [(e_match, 1), (e_note_match, 1), (e_repeat, 2)],
}
FAMILY_WEIGHTS = {"filter": 0.45, "classify": 0.10, "extract": 0.30, "exercise": 0.15}   # run E2
# The first part of training (``train.py --copy-first``): copying is learned in a sudden phase
# change once enough copy examples have been seen; mixed at 25% it comes too late in the run.
COPY_FIRST_WEIGHTS = {"filter": 0.25, "classify": 0.10, "extract": 0.45, "exercise": 0.20}


def needs_rows(gen) -> bool:
    """Whether a generator draws real rows from ``--data`` (its name says ``real``); without the
    data folder it is skipped, and the evaluation scores it as its own row."""
    return "real" in gen.__name__


def sample(rng: random.Random, pools: Pools, family: str | None = None,
           weights: dict[str, float] = FAMILY_WEIGHTS) -> Example:
    """One example; generators that need real rows are skipped when the pools have none."""
    if family is None:
        family = rng.choices(list(weights), weights=list(weights.values()))[0]
    gens = [(g, w) for g, w in GENERATORS[family]
            if not needs_rows(g) or pools.movie_reviews]
    gen = rng.choices([g for g, _ in gens], weights=[w for _, w in gens])[0]
    return gen(rng, pools)


def training_examples(rng: random.Random, pools: Pools, n: int, copy_first: float) -> list[Example]:
    """The training set, in the order it is trained on by part: its first ``copy_first`` share
    drawn with ``COPY_FIRST_WEIGHTS``, the rest with ``FAMILY_WEIGHTS``. ``evaluate.py`` calls
    this too, with the recorded arguments, to know every training prompt."""
    first = int(n * copy_first)
    return ([sample(rng, pools, weights=COPY_FIRST_WEIGHTS) for _ in range(first)]
            + [sample(rng, pools) for _ in range(n - first)])
