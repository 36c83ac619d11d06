"""The shell's dot commands, as in the DuckDB and SQLite shells: ``.help``, ``.tables``,
``.schema``, ``.mode``, ``.timer``, ``.bail``, ``.read FILE``, ``.output FILE``, ``.open FILE``,
``.show`` and ``.quit``; and InferSQL's own: ``.model`` (the default model and its engine
settings), ``.cache`` (the result cache's size, ``.cache clear``) and ``.threads N``.

A dot command is a whole line that starts with ``.`` where a statement would start; it is never
glued onto the SQL that follows. Each command is one function in ``COMMANDS``, with the line
of help that ``.help`` prints, so adding one is one entry.
"""
from __future__ import annotations

import dataclasses
import os
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import infersql
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


def _on_off(args: list[str], command: str) -> bool:
    if len(args) != 1 or args[0] not in ("on", "off"):
        raise DotCommandError(f"use {command} on or {command} off")
    return args[0] == "on"


def _timer(shell: "Shell", args: list[str]) -> bool:
    shell.timer = _on_off(args, ".timer")
    return True


def _bail(shell: "Shell", args: list[str]) -> bool:
    shell.bail = _on_off(args, ".bail")
    return True


def _output(shell: "Shell", args: list[str]) -> bool:
    if len(args) > 1:
        raise DotCommandError("use .output FILE, or .output alone for the screen")
    try:
        shell.write_to(args[0] if args else None)
    except OSError as error:
        raise DotCommandError(f"cannot write {args[0]}: {error.strerror}") from error
    return True


def _open(shell: "Shell", args: list[str]) -> bool:
    if len(args) != 1:
        raise DotCommandError("use .open FILE (a DuckDB database, created if missing)")
    try:
        shell.open(args[0])
    except infersql.Error as error:
        raise DotCommandError(str(error).splitlines()[0]) from error
    return True


def _threads(shell: "Shell", args: list[str]) -> bool:
    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
        raise DotCommandError("use .threads N (N >= 1): threads for DuckDB and the model")
    shell.set_threads(int(args[0]))
    return True


def _model_name(shell: "Shell") -> str:
    """What the default model is called: the -m argument, the catalog's default, or built-in."""
    models = shell.conn.runtime.models
    entry = models.catalog.default_model() if models.default_model is None else None
    return models.default_model or (entry.name if entry else "built-in")


def _model(shell: "Shell", args: list[str]) -> bool:
    config = shell.conn.runtime.models.engine_config(None)    # without loading the model
    loaded = shell.conn.runtime.models.loaded_engine(None) is not None
    where = "folder" if os.path.isdir(config.model) else "file"        # a GGUF file
    lines = [f"model: {_model_name(shell)}", f"{where}: {config.model}",
             f"loaded: {'yes' if loaded else 'no (it loads at the first LLM call)'}"]
    scale = shell.conn.runtime.models.scale
    if scale is not None:
        lines.append(f"workers: {scale.describe()} (each with the engine below)")
    lines.append("engine:")
    lines += [f"  {f.name} = {getattr(config, f.name)}"
              for f in dataclasses.fields(config) if f.name != "model"]
    shell.say("\n".join(lines))
    return True


def _cache(shell: "Shell", args: list[str]) -> bool:
    if args not in ([], ["clear"]):
        raise DotCommandError("use .cache (how many LLM answers are cached) or .cache clear")
    if not args:
        size = shell.conn.catalog.cache_size()
        shell.say(f"{size} cached LLM answer{'s' if size != 1 else ''}")
        return True
    try:
        size = shell.conn.catalog.clear_cache()
    except Exception as error:             # a read-only database: said, not a traceback
        raise DotCommandError(f"cannot clear the result cache: {str(error).splitlines()[0]}") from error
    shell.say(f"cleared {size} cached LLM answer{'s' if size != 1 else ''}")
    return True


def _show(shell: "Shell", args: list[str]) -> bool:
    conn = shell.conn
    settings = {
        "database": conn.database + (" (read-only)" if conn.read_only else ""),
        "model": _model_name(shell),
        "mode": shell.mode,
        "output": "stdout" if shell.out is shell.stdout else getattr(shell.out, "name", "file"),
        "bail": "on" if shell.bail else "off",
        "timer": "on" if shell.timer else "off",
        "threads": shell.query("SELECT current_setting('threads')")[0][0],
    }
    width = max(map(len, settings))
    shell.say("\n".join(f"{k.rjust(width)}: {v}" for k, v in settings.items()))
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
    ".bail": Command(_bail, ".bail on|off", "stop a script or piped input at its first error"),
    ".read": Command(_read, ".read FILE", "run the SQL and dot commands in FILE"),
    ".output": Command(_output, ".output [FILE]", "send results to FILE (no argument: the screen)"),
    ".open": Command(_open, ".open FILE", "close this database and open FILE"),
    ".model": Command(_model, ".model", "the default model: name, folder or file, engine settings"),
    ".cache": Command(_cache, ".cache [clear]", "how many LLM answers are cached; clear them"),
    ".threads": Command(_threads, ".threads N", "threads for DuckDB and the model (torch)"),
    ".show": Command(_show, ".show", "current settings: database, model, mode, bail, ..."),
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
