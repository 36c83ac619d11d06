"""The infersql command: an interactive SQL shell, -c SQL, or a .sql file, on DuckDB with
LLM functions.

    infersql                          interactive, in-memory database
    infersql reviews.duckdb           interactive, on a database file
    infersql reviews.duckdb -c "SELECT LLM_FILTER('Positive?', review) FROM reviews"
    infersql reviews.duckdb queries.sql --json > answers.json
    infersql reviews.duckdb --workers 2 -c "..."   the model on 2 engines (Ray actors)
    infersql calibrate [--model M] [--device D]
                                      measure this machine's model speed for the optimizer's
                                      cost model (infersql calibrate --help)

Results print as a table fitted to a terminal, and as CSV, with every value whole, when the
output goes to a file or a pipe (--table, --csv, --json or --line choose). In the shell, .help
lists the dot commands (.model, .cache, .output, .open, .show, ...).

Errors print one line, never a traceback. As in the DuckDB shell, -c stops at its first error;
a .sql file or piped input reports each error and goes on with the next statement, unless
-bail stops it at the first. The exit status is 1 if any statement failed, 0 otherwise (141
when the reader of a pipe, such as head, stops reading). Ctrl-C cancels the running statement
and keeps every LLM result finished so far in the database's result cache. Plain SQL never
loads torch or a model.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
import warnings

import infersql

from .dot_commands import QuitShell
from .output_modes import MODES
from .progress_bar import LoadingNotice, ProgressBar
from .shell import Shell, one_line

LOADING_LOGGER = "executor.engine.model_runner"     # logs "Loading model ..." at INFO


def _parse(argv):
    ap = argparse.ArgumentParser(prog="infersql", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=_version())
    ap.add_argument("paths", nargs="*", metavar="DATABASE|FILE.sql",
                    help="a DuckDB database file and/or a .sql file to run")
    ap.add_argument("-c", "--command", help="SQL (and dot commands) to run, then exit")
    ap.add_argument("-m", "--model",
                    help="Hugging Face model folder, GGUF file or registered model name")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cpu)")
    ap.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None,
                    help="default: float32 on CPU, bfloat16 on CUDA")
    ap.add_argument("--compile", action="store_true",
                    help="fuse the model's norms and MLPs with torch.compile: faster per token "
                         "(most in bfloat16), seconds of compiling when the model loads")
    ap.add_argument("--read-only", action="store_true",
                    help="open the database read-only: LLM queries run, results are not stored")
    ap.add_argument("--mode", choices=MODES, default=None,
                    help="output mode (default: table on a terminal, csv otherwise)")
    for mode in MODES:
        ap.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode,
                        help=f"same as --mode {mode}")
    ap.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    ap.add_argument("-bail", "--bail", action="store_true",
                    help="stop a .sql file or piped input at its first error")
    ap.add_argument("--threads", type=_positive, metavar="N",
                    help="threads for DuckDB (SET threads) and for the model (torch)")
    ap.add_argument("--workers", type=_positive, metavar="N",
                    help="run the model on N engines, Ray actors on a local Ray (needs the "
                         "ray extra: pip install 'infersql[ray]')")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--cluster", metavar="ray://HOST:PORT",
                       help="run the engines on a running Ray cluster, through Ray Client")
    where.add_argument("--address", metavar="auto|HOST:PORT",
                       help="run the engines on the Ray cluster this machine is part of "
                            "('auto': the one `ray start` made here)")
    return ap.parse_args(argv)


def _version() -> str:
    import duckdb

    return f"infersql {infersql.__version__} (DuckDB {duckdb.__version__})"


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def _reader_left() -> int:
    """The reader of stdout closed the pipe (``| head``): stop quietly, as ``cat`` does,
    with the status a shell reports for a command that SIGPIPE ended. Later writes, and
    Python's own flush at exit, go to /dev/null instead of failing again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _warning_as_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings (``infersql.ReadOnlyWarning``, ...) as one ``WARNING: ...`` line, as
    log warnings are, not Python's file:line: Category: text and the source line."""
    logging.getLogger("py.warnings").warning("%s", message)


def _quiet_logging(progress: ProgressBar) -> None:
    """Warnings as one line each; transformers' chatter off; a model load shown on the
    progress line of a terminal."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    warnings.showwarning = _warning_as_one_line
    if progress.enabled:
        loader = logging.getLogger(LOADING_LOGGER)
        loader.setLevel(logging.INFO)
        loader.addHandler(LoadingNotice(progress))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["calibrate"]:          # infersql calibrate [--model M] [--device D] ...
        from .calibrate import main as calibrate

        return calibrate(argv[1:])
    args = _parse(argv)
    progress = ProgressBar(False if args.no_progress else None)
    _quiet_logging(progress)
    database, script = ":memory:", None
    for path in args.paths:
        if path.endswith(".sql"):
            script = path
        else:
            database = path
    options = {k: v for k, v in (("device", args.device), ("dtype", args.dtype)) if v}
    if args.compile:
        options["compile"] = True
    options.update({k: v for k, v in (("workers", args.workers), ("cluster", args.cluster),
                                      ("address", args.address)) if v is not None})
    connect = functools.partial(infersql.connect, model=args.model, read_only=args.read_only,
                                **options)
    try:
        conn = connect(database)
    except infersql.Error as error:
        print(f"Error: {one_line(error)}", file=sys.stderr)
        return 1
    mode = args.mode or ("table" if sys.stdout.isatty() else "csv")
    shell = Shell(conn, progress, mode, connect=connect)
    shell.bail = args.bail
    try:
        if args.threads:
            shell.set_threads(args.threads)
        if args.command is not None:                 # stops at its first error, as DuckDB's
            return 0 if shell.run_script(args.command, bail=True) else 1
        if script is not None:
            try:
                with open(script, encoding="utf-8") as f:
                    text = f.read()
            except OSError as error:
                print(f"Error: cannot read {script}: {error.strerror}", file=sys.stderr)
                return 1
            return 0 if shell.run_script(text) else 1
        return 0 if shell.interactive() else 1
    except QuitShell:
        return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_left()
    except Exception as error:           # the CLI never shows a traceback
        print(f"Error: {type(error).__name__}: {one_line(error)}", file=sys.stderr)
        return 1
    finally:
        try:
            shell.close()
        except Exception as error:
            print(f"Error while closing: {one_line(error)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
