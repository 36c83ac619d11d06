"""The shell's dot commands, as in the DuckDB and SQLite shells: ``.help``, ``.tables``,
``.schema``, ``.mode``, ``.timer``, ``.read FILE`` and ``.quit``.

A dot command is a whole line that starts with ``.`` where a statement would start; it is never
glued onto the SQL that follows. Each command is one function in ``COMMANDS``, with the line
of help that ``.help`` prints, so adding one is one entry.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from catalog import SCHEMA

from .output_modes import MODES

if TYPE_CHECKING:
    from .shell import Shell


class QuitShell(Exception):
    """``.quit``: leave the shell after the current line."""


class DotCommandError(Exception):
    """A dot command was misused; the message says how to use it."""


@dataclass(frozen=True)
class Command:
    run: Callable[["Shell", list[str]], bool]
    usage: str
    help: str


# User objects, without InferSQL's catalog schema or DuckDB's internal ones.
_OBJECTS = f"""
    SELECT schema_name, table_name AS name, sql, 'table' AS kind FROM duckdb_tables()
     WHERE NOT internal AND schema_name <> '{SCHEMA}' AND database_name = current_database()
    UNION ALL
    SELECT schema_name, view_name, sql, 'view' FROM duckdb_views()
     WHERE NOT internal AND schema_name <> '{SCHEMA}' AND database_name = current_database()
    """


def _help(shell: "Shell", args: list[str]) -> bool:
    width = max(len(c.usage) for c in COMMANDS.values())
    shell.say("\n".join(f"{c.usage.ljust(width)}  {c.help}" for c in COMMANDS.values()))
    return True


def _qualified(schema: str, name: str) -> str:
    return name if schema == "main" else f"{schema}.{name}"


def _tables(shell: "Shell", args: list[str]) -> bool:
    pattern = args[0] if args else "%"
    rows = shell.query(f"SELECT schema_name, name FROM ({_OBJECTS}) WHERE name LIKE ? "
                       "ORDER BY schema_name <> 'main', schema_name, name", [pattern])
    if rows:
        shell.say("\n".join(_qualified(s, n) for s, n in rows))
    return True


def _schema(shell: "Shell", args: list[str]) -> bool:
    pattern = args[0] if args else "%"
    rows = shell.query(f"SELECT sql FROM ({_OBJECTS}) WHERE name LIKE ? "
                       "ORDER BY kind, schema_name, name", [pattern])
    if rows:
        shell.say("\n".join(sql.rstrip().rstrip(";") + ";" for (sql,) in rows))
    return True


def _mode(shell: "Shell", args: list[str]) -> bool:
    if not args:
        shell.say(f"current output mode: {shell.mode}")
        return True
    if args[0] not in MODES:
        raise DotCommandError(f"unknown mode {args[0]!r}; use .mode {'|'.join(MODES)}")
    shell.mode = args[0]
    return True


def _timer(shell: "Shell", args: list[str]) -> bool:
    if len(args) != 1 or args[0] not in ("on", "off"):
        raise DotCommandError("use .timer on or .timer off")
    shell.timer = args[0] == "on"
    return True


def _read(shell: "Shell", args: list[str]) -> bool:
    if len(args) != 1:
        raise DotCommandError("use .read FILE")
    try:
        with open(args[0], encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise DotCommandError(f"cannot read {args[0]}: {error.strerror}") from error
    return shell.run_script(text)


def _quit(shell: "Shell", args: list[str]) -> bool:
    raise QuitShell


COMMANDS: dict[str, Command] = {
    ".help": Command(_help, ".help", "show this list"),
    ".tables": Command(_tables, ".tables [PATTERN]", "list tables and views (LIKE pattern)"),
    ".schema": Command(_schema, ".schema [PATTERN]", "show CREATE statements of tables and views"),
    ".mode": Command(_mode, ".mode " + "|".join(MODES), "how results print (no argument: show it)"),
    ".timer": Command(_timer, ".timer on|off", "print time and LLM stats after each statement"),
    ".read": Command(_read, ".read FILE", "run the SQL and dot commands in FILE"),
    ".quit": Command(_quit, ".quit", "leave the shell (also .exit, Ctrl-D)"),
}
_ALIASES = {".exit": ".quit", ".q": ".quit", ".h": ".help"}


def run_dot_command(shell: "Shell", line: str) -> bool:
    """Run one dot-command line; False if it failed (the error is already printed)."""
    try:
        words = shlex.split(line.strip())
    except ValueError as error:
        shell.error(f"cannot read {line.strip()!r}: {error}")
        return False
    name = _ALIASES.get(words[0], words[0])
    command = COMMANDS.get(name)
    if command is None:
        shell.error(f"unknown command {words[0]}; .help lists the commands")
        return False
    try:
        return command.run(shell, words[1:])
    except DotCommandError as error:
        shell.error(str(error))
        return False
