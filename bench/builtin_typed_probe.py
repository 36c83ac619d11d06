"""Built-in model: typed questions (``returns :=``, LLM_EXTRACT), how many answers are right.

``python bench/builtin_typed_probe.py [--model FOLDER]`` (the shipped model by default)

Why: the built-in model was trained on free-text answers only, never on JSON; the grammar keeps
every answer inside its type whatever the model, and this says how often the typed value is
also the right one. Sentences written by hand, each family through the query a user writes.
The figures go in the model card (infersql/builtin_model/README.md). A few seconds on two cores.
"""
from __future__ import annotations

import argparse

import common  # noqa: F401  (puts the repository on sys.path)
import infersql
from infersql.builtin_model import MODEL_DIR

YEARS = [("The bridge was opened in 1932.", 1932), ("Maria Lopez moved to Lisbon in 2015.", 2015),
         ("Tom Baker was born in 1987 in Madrid.", 1987), ("The museum closed in 2003.", 2003),
         ("The first train reached the town in 1871.", 1871), ("Our shop opened in 1999.", 1999),
         ("The storm of 1962 flooded the valley.", 1962), ("In 2021 the school got a new roof.", 2021)]
NUMBERS = [("She bought 12 eggs at the market.", 12), ("The bus waited 7 minutes.", 7),
           ("There are 45 chairs in the hall.", 45), ("He ran 3 miles before breakfast.", 3),
           ("The box holds 250 nails.", 250), ("We counted 18 birds on the wire.", 18),
           ("The recipe needs 2 lemons.", 2), ("The tower has 96 steps.", 96)]
COLORS = [("She drives a red car to work.", "red"), ("The old door was painted blue.", "blue"),
          ("He wore a green scarf all winter.", "green"), ("A black cat sat on the wall.", "black"),
          ("They bought a white sofa.", "white"), ("The kite was bright red.", "red"),
          ("His bicycle is blue and fast.", "blue"), ("The green bench needs paint.", "green")]
NAMES = [("Anna Berg wrote the report.", "Anna Berg"), ("The prize went to Omar Haddad.", "Omar Haddad"),
         ("Lucia Romano fixed the roof.", "Lucia Romano"), ("Peter Novak called twice.", "Peter Novak"),
         ("We met Sara Kim at the station.", "Sara Kim"), ("Jonas Weber sold the house.", "Jonas Weber"),
         ("The letter was signed by Mei Chen.", "Mei Chen"), ("Carlos Ruiz opened the cafe.", "Carlos Ruiz")]
RATINGS = [("Harbor Lights", 5), ("The Last Orbit", 2), ("Paper Crowns", 4), ("Salt and Iron", 1),
           ("Night Bus", 3), ("Cold Harbour", 5), ("Blue Hour", 2), ("Iron Gate", 4)]
COLOR_ENUM = "ENUM('red', 'blue', 'green', 'black', 'white')"


# (question, rows, query over v(...): expected value(s) first, the typed answer last)
FAMILIES = [
    ("year as SMALLINT", YEARS,
     "SELECT want, LLM('What is the year?', note, returns := 'SMALLINT') FROM v(note, want)"),
    ("number as INTEGER", NUMBERS,
     "SELECT want, LLM('What is the number?', note, returns := 'INTEGER') FROM v(note, want)"),
    ("rating field as TINYINT", RATINGS,
     "SELECT rating, LLM('What is the rating?', title, rating, returns := 'TINYINT') FROM v(title, rating)"),
    ("color as ENUM", COLORS,
     f"SELECT want, LLM('What color is it?', note, returns := $${COLOR_ENUM}$$) FROM v(note, want)"),
    ("name as VARCHAR(24)", NAMES,
     "SELECT want, LLM('What is the name of the person?', note, returns := 'VARCHAR(24)') FROM v(note, want)"),
    ("name and year, LLM_EXTRACT", [(f"{n.rstrip('.')} in {y}.", who, y)
                                    for (n, who), (_, y) in zip(NAMES, YEARS)],
     "SELECT {'name': who, 'year': year}, LLM_EXTRACT('Who, and what year?', note, "
     "returns := 'STRUCT(name VARCHAR(24), year SMALLINT)') FROM v(note, who, year)"),
]


def probe(conn, rows: list[tuple], sql: str) -> tuple[list[tuple], int]:
    """(expected, answer) per row, and the statement's cast failures."""
    table = "(VALUES " + ", ".join("(" + ", ".join(["?"] * len(rows[0])) + ")" for _ in rows) + ")"
    cur = conn.cursor()
    got = cur.execute(sql.replace(" FROM v(", f" FROM {table} v("), [x for r in rows for x in r]).fetchall()
    return got, cur.stats.cast_failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(MODEL_DIR))
    args = ap.parse_args()
    print("| question | right | typed (not NULL) | first answers |")
    print("|---|---:|---:|---|")
    with infersql.connect(model=args.model) as conn:
        for question, rows, sql in FAMILIES:
            got, failures = probe(conn, rows, sql)
            right = sum(want == answer for want, answer in got)
            typed = sum(answer is not None for _, answer in got)
            shown = "; ".join(repr(answer) for _, answer in got[:3])
            print(f"| {question} | {right}/{len(got)} | {typed}/{len(got)} (cast failures "
                  f"{failures}) | {shown} |")


if __name__ == "__main__":
    main()
