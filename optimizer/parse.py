"""From SQL text to a statement DuckDB can run, with every LLM call found and checked.

Each ``LLM``/``LLM_FILTER``/``LLM_CLASSIFY`` call is parsed with sqlglot (DuckDB dialect),
validated, described as an ``LLMCall`` and replaced by a call of a per-statement vectorized UDF
that receives only the field values (as VARCHAR). Instruction, field names, labels and options
stay on the Python side, so DuckDB keeps all SQL semantics (any clause, subqueries, joins)
while the runtime batches each chunk of rows for the engine.
"""
from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from executor.query_errors import BadCallError, UnsupportedError
from executor.llm_call import DEFAULT_MAX_TOKENS, FIELD_ORDERS, KINDS, OVERFLOW, LLMCall

from .typed_options import typed_options

_MENTION = re.compile(r"\bLLM(_FILTER|_CLASSIFY|_EXTRACT)?\"?\s*\(", re.IGNORECASE)
_EXPLAIN = re.compile(r"^(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*EXPLAIN"
                      r"(?:\s*\((?P<options>[^)]*)\))?(?P<analyze>\s+ANALYZE\b)?"
                      r"(?:\s*\((?P<options2>[^)]*)\))?",
                      re.IGNORECASE | re.DOTALL)   # leading comments; PostgreSQL's (ANALYZE, FORMAT JSON)
_NAME_TOKENS = (TokenType.VAR, TokenType.IDENTIFIER)
_STORED = {"VIEW", "MACRO", "FUNCTION"}     # CREATE kinds whose body DuckDB keeps and reruns
_OPTIONS = {"model": str, "max_tokens": int, "temperature": float, "seed": int, "on_overflow": str,
            "field_order": str, "returns": str, "json_schema": str, "on_error": str}
_FALLBACK = "Falling back to parsing as a 'Command'"


class _NoCommandFallbackNotice(logging.Filter):
    """sqlglot warns when it reads a statement as an opaque command; ``_check_supported``
    answers that case itself with a clear error, so the warning printed before it is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _FALLBACK not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_NoCommandFallbackNotice())
_names = itertools.count()   # process-wide on purpose: DuckDB registers UDFs per database,
                              # shared by all cursors, so names must never repeat


@dataclass
class PlannedStatement:
    sql: str                                                  # what DuckDB runs
    udfs: list[tuple[str, LLMCall, int]] = field(default_factory=list)   # name, call, arity
    explain: str = ""                                         # "", "EXPLAIN", "EXPLAIN ANALYZE"
    tree: exp.Expression | None = None                        # the rewritten statement
    explain_format: str = "text"                              # or "json"


def mentions_llm(sql: str) -> bool:
    """Cheap test: statements without LLM calls go to DuckDB untouched.

    Tokens, not text: ``'LLM('`` inside a string literal or a comment is no call, and such a
    statement must not take the rewriting path (sqlglot cannot regenerate every DuckDB
    statement). A regular expression first rules out most statements at once (a bulk INSERT
    of megabytes is slow to tokenize), and decides for text sqlglot cannot tokenize.
    """
    if not _MENTION.search(sql):
        return False
    try:
        tokens = sqlglot.tokenize(sql, dialect="duckdb")
    except sqlglot.errors.TokenError:
        return bool(_MENTION.search(sql))
    for t, nxt in zip(tokens, tokens[1:]):
        if t.token_type == TokenType.COMMAND and nxt.token_type == TokenType.STRING:
            return mentions_llm(nxt.text)   # EXPLAIN, PREPARE, ...: the rest is one token
        if (t.token_type in _NAME_TOKENS and t.text.upper() in KINDS
                and nxt.token_type == TokenType.L_PAREN):
            return True
    return False


def split_explain(sql: str) -> tuple[str, str]:
    """(the leading ``EXPLAIN [ANALYZE] [(...)]`` as written, or "", and the statement after
    it): sqlglot reads EXPLAIN as one opaque command, so what follows is handled on its own."""
    m = _EXPLAIN.match(sql)
    return (sql[:m.end()], sql[m.end():]) if m else ("", sql)


def plan_statement(sql: str) -> PlannedStatement:
    """One statement with its LLM calls replaced by calls of per-call UDFs, and the calls.

    The UDF receives only the field values, cast to VARCHAR; instruction, field names, labels
    and options ride along in its ``LLMCall``. Raises ``BadCallError`` for a malformed call
    and ``UnsupportedError`` for a call where it cannot run.
    """
    m = _EXPLAIN.match(sql)
    explain, fmt = _explain_options(m) if m else ("", "text")
    body = sql[m.end():] if m else sql
    try:
        tree = sqlglot.parse_one(body, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise BadCallError(f"cannot parse the statement (statements with LLM calls are read "
                           f"with sqlglot's DuckDB dialect): {exc}") from exc
    udfs: list[tuple[str, LLMCall, int]] = []
    calls = [n for n in tree.find_all(exp.Anonymous, bfs=False) if str(n.this).upper() in KINDS]
    _check_supported(tree, bool(calls))
    described = [_describe(n) for n in calls]            # from the original text, outer first
    _name_output_columns(tree)
    # Identical calls share one UDF: DuckDB matches a SELECT item to its GROUP BY expression
    # by structure, so two names for one call would make it reject the query.
    names: dict[str, str] = {}
    for node, (call, field_at) in reversed(list(zip(calls, described))):   # inner calls first
        name = names.get(call.sql)
        if name is None:
            name = names[call.sql] = f"__infersql_{call.kind}_{next(_names)}"
            udfs.append((name, call, len(field_at)))
        args = [exp.cast(node.expressions[i].copy(), "VARCHAR") for i in field_at]
        replacement = exp.Anonymous(this=name, expressions=args)
        if node is tree:
            tree = replacement
        else:
            node.replace(replacement)
    text = tree.sql(dialect="duckdb")
    return PlannedStatement(f"{explain} {text}".strip(), udfs, explain, tree, fmt)


def _explain_options(m: re.Match) -> tuple[str, str]:
    """("EXPLAIN" or "EXPLAIN ANALYZE", "text" or "json") from ``EXPLAIN [ANALYZE]`` with
    PostgreSQL's option list, e.g. ``EXPLAIN (ANALYZE, FORMAT JSON)``."""
    options = [o.strip().upper() for o in ",".join(
        filter(None, (m.group("options"), m.group("options2")))).split(",") if o.strip()]
    analyze = bool(m.group("analyze")) or "ANALYZE" in options
    fmt = "text"
    for o in options:
        if o.startswith("FORMAT"):
            fmt = o.split(None, 1)[1].lower() if len(o.split()) > 1 else "text"
            if fmt not in ("text", "json"):
                raise BadCallError(f"EXPLAIN (FORMAT {fmt.upper()}) is not supported; use TEXT or JSON")
        elif o != "ANALYZE":
            raise BadCallError(f"unknown EXPLAIN option {o!r}; use ANALYZE or FORMAT JSON")
    return ("EXPLAIN ANALYZE" if analyze else "EXPLAIN"), fmt


def _check_supported(tree: exp.Expression, has_calls: bool) -> None:
    """An LLM call is bound to its statement (its UDF exists while the statement runs), so it
    cannot be stored in a view or macro, nor in a statement sqlglot sees only as a command."""
    if isinstance(tree, exp.Command):
        raise UnsupportedError(f"LLM calls are not supported in {str(tree.this).upper()} "
                               "statements; run the query directly")
    if has_calls and isinstance(tree, exp.Create) and tree.kind in _STORED:
        raise UnsupportedError(f"LLM calls cannot be stored in a {tree.kind.lower()}: a call is "
                               "evaluated by the statement that contains it. Store its results "
                               "with CREATE TABLE ... AS SELECT instead")


def _name_output_columns(tree: exp.Expression) -> None:
    """Give unaliased select items that contain an LLM call their original text as a name,
    so result columns read ``LLM_FILTER('...', review)``, not the rewritten UDF call."""
    for select in tree.find_all(exp.Select):
        for i, item in enumerate(select.expressions):
            if isinstance(item, exp.Alias) or not any(
                    str(n.this).upper() in KINDS for n in item.find_all(exp.Anonymous)):
                continue
            alias = exp.Alias(alias=exp.to_identifier(item.sql(dialect="duckdb"), quoted=True))
            item.replace(alias)
            alias.set("this", item)         # the same node: the calls found in it stay valid


def _describe(node: exp.Anonymous) -> tuple[LLMCall, list[int]]:
    """The call, and the positions in ``node.expressions`` of its field arguments."""
    fname = str(node.this).upper()
    kind = KINDS[fname]
    sql = node.sql(dialect="duckdb")
    args = node.expressions
    positional = [i for i, a in enumerate(args) if not isinstance(a, exp.PropertyEQ)]
    options = _options(sql, [a for a in args if isinstance(a, exp.PropertyEQ)])
    labels: tuple[str, ...] = ()
    if kind == "classify":
        if len(positional) < 2 or not isinstance(args[positional[1]], exp.Array):
            raise BadCallError(f"{sql}: LLM_CLASSIFY needs its labels as the second argument, "
                               "a list of strings such as ['positive', 'negative']")
        labels = tuple(_string(sql, e, "each label") for e in args[positional[1]].expressions)
        if not labels or len(set(labels)) != len(labels) or not all(labels):
            raise BadCallError(f"{sql}: LLM_CLASSIFY labels must be distinct non-empty strings")
        positional = [positional[0]] + positional[2:]
    if not positional:
        raise BadCallError(f"{sql}: {fname} needs a prompt, or an instruction and fields")
    if len(positional) == 1:                       # raw form: the argument is the prompt
        return LLMCall(kind, sql, None, (), labels, **options), positional
    instruction = _string(sql, args[positional[0]], "the instruction (first argument)")
    fields = positional[1:]
    names = tuple(_field_name(args[i]) for i in fields)
    return LLMCall(kind, sql, instruction, names, labels, **options), fields


MAX_SEED = (1 << 63) - 1      # the engine seeds torch generators, which take a signed 64-bit int


def _options(sql: str, props: list[exp.PropertyEQ]) -> dict:
    """The call's named options, each checked: known name, given once, right type and range.
    ``temperature :=`` only means something where text is sampled, so LLM_FILTER and
    LLM_CLASSIFY (decoding constrained to their choices) reject it rather than ignore it."""
    out: dict = {}
    function = sql.split("(", 1)[0].strip().strip('"').upper()
    for p in props:
        name = p.this.name.lower()
        if name not in _OPTIONS:
            hint = ("; labels go in LLM_CLASSIFY's second argument, a list: "
                    "LLM_CLASSIFY('question', ['label a', 'label b'], column)"
                    if name in ("labels", "choices", "categories") else "")
            raise BadCallError(f"{sql}: unknown option {name!r}; valid options are "
                               f"{', '.join(n + ' :=' for n in _OPTIONS)}{hint}")
        if name in out:
            raise BadCallError(f"{sql}: option {name} := is given twice; give it once")
        value = p.expression
        want = _OPTIONS[name]
        if want is str:
            out[name] = _string(sql, value, f"{name} :=")
            continue
        number = _number(value)
        if number is None or (want is int and not float(number).is_integer()):
            raise BadCallError(f"{sql}: {name} := takes {'an integer' if want is int else 'a number'}, "
                               f"got {value.sql()}")
        out[name] = want(number)
    if out.get("max_tokens", DEFAULT_MAX_TOKENS) < 1:
        raise BadCallError(f"{sql}: max_tokens := must be at least 1")
    if out.get("temperature", 0.0) < 0:
        raise BadCallError(f"{sql}: temperature := must be >= 0")
    if "temperature" in out and function not in ("LLM", "LLM_EXTRACT"):
        raise BadCallError(f"{sql}: {function} takes no temperature := (its answer is the most "
                           "likely of its choices); use LLM(...) to sample text")
    if not 0 <= out.get("seed", 0) <= MAX_SEED:
        raise BadCallError(f"{sql}: seed := must be between 0 and {MAX_SEED}")
    if out.get("on_overflow", OVERFLOW[0]) not in OVERFLOW:
        raise BadCallError(f"{sql}: on_overflow := takes " + " or ".join(f"'{v}'" for v in OVERFLOW))
    if out.get("field_order", FIELD_ORDERS[0]) not in FIELD_ORDERS:
        raise BadCallError(f"{sql}: field_order := takes " + " or ".join(f"'{v}'" for v in FIELD_ORDERS))
    typed_options(sql, function, out)
    return out


def _string(sql: str, node: exp.Expression, what: str) -> str:
    """A constant string: '...', E'...' (escapes already applied) or $$...$$ / $tag$...$tag$."""
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.RawString) or (isinstance(node, exp.ByteString)
                                            and not node.args.get("is_bytes")):
        return node.this
    raise BadCallError(f"{sql}: {what} must be a string literal, got {node.sql(dialect='duckdb')}"
                       " (a bound parameter ? works too)")


def _number(node: exp.Expression) -> int | float | None:
    """A numeric literal; integers stay exact (a float would round a 64-bit seed)."""
    sign = 1
    if isinstance(node, exp.Neg):
        sign, node = -1, node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        return sign * int(node.this) if node.this.isdigit() else sign * float(node.this)
    return None


def _field_name(node: exp.Expression) -> str:
    """A column's own name; any other expression is named by its SQL text."""
    if isinstance(node, exp.Column):
        return node.name
    return node.sql(dialect="duckdb")
