"""The ``infersql`` command: an interactive shell, ``-c SQL``, or a ``.sql`` file.

    infersql                          interactive, in-memory database
    infersql reviews.duckdb           interactive, on a database file
    infersql reviews.duckdb -c "SELECT LLM_FILTER('Positive?', review) FROM reviews"
    infersql reviews.duckdb queries.sql

Errors print one line, never a traceback; Ctrl-C cancels the running statement and keeps
every LLM result finished so far in the database's result cache.
"""
from __future__ import annotations

import argparse
import logging
import sys

import duckdb

import infersql

from .progress import ProgressBar
from .table_format import format_table


def _parse(argv):
    ap = argparse.ArgumentParser(prog="infersql", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", metavar="DATABASE|FILE.sql",
                    help="a DuckDB database file and/or a .sql file to run")
    ap.add_argument("-c", "--command", help="SQL to run, then exit")
    ap.add_argument("-m", "--model", help="Hugging Face model folder or registered model name")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cpu)")
    ap.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    return ap.parse_args(argv)


_CHANGES = {"INSERT", "UPDATE", "DELETE"}          # print how many rows changed
_SILENT = {"CREATE", "DROP", "ALTER", "COPY", "ATTACH", "DETACH", "SET", "TRANSACTION"}


class Shell:
    def __init__(self, conn: infersql.Connection, progress: ProgressBar) -> None:
        self.conn = conn
        self.progress = progress
        conn.runtime.listeners.append(progress)
        # One cursor, one DuckDB session: temporary tables, SET and BEGIN ... COMMIT carry
        # from one statement to the next, as in any SQL shell.
        self.cursor = conn.cursor()

    def run(self, sql: str) -> bool:
        """Run every statement in ``sql``, printing results; False after the first error."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as error:
            print(f"Error: {error}", file=sys.stderr)
            return False
        for statement in statements:
            if not self._one(statement.query, statement.type.name):
                return False
        return True

    def _one(self, sql: str, kind: str) -> bool:
        cur = self.cursor
        try:
            cur.execute(sql)
            if kind in _CHANGES and cur.description:
                print(f"({cur.fetchone()[0]} rows changed)")
            elif kind not in _SILENT and cur.description:
                print(format_table([d[0] for d in cur.description], cur.fetchall()))
            return True
        except infersql.Error as error:
            print(f"Error: {error}", file=sys.stderr)
            return False
        except KeyboardInterrupt:
            done = self.conn.runtime.progress.rows_done
            print(f"\nCancelled. {done} LLM results finished before the interrupt are kept in "
                  "the result cache; re-running the statement reuses them.", file=sys.stderr)
            raise
        finally:
            self.progress.close()

    def interactive(self) -> None:
        print("InferSQL shell: end statements with ';', .quit to leave.", file=sys.stderr)
        buffer = []
        while True:
            try:
                line = input("infersql> " if not buffer else "     ...> ")
            except EOFError:
                print(file=sys.stderr)
                return
            except KeyboardInterrupt:
                print(file=sys.stderr)
                buffer = []
                continue
            if not buffer and line.strip() in (".quit", ".exit"):
                return
            buffer.append(line)
            text = "\n".join(buffer)
            if text.strip().endswith(";"):
                buffer = []
                try:
                    self.run(text)
                except KeyboardInterrupt:
                    continue


def main(argv=None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    database, script = ":memory:", None
    for path in args.paths:
        if path.endswith(".sql"):
            script = path
        else:
            database = path
    options = {"device": args.device} if args.device else {}
    try:
        conn = infersql.connect(database, model=args.model, **options)
    except infersql.Error as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    shell = Shell(conn, ProgressBar(False if args.no_progress else None))
    try:
        if args.command is not None:
            return 0 if shell.run(args.command) else 1
        if script is not None:
            try:
                text = open(script, encoding="utf-8").read()
            except OSError as error:
                print(f"Error: cannot read {script}: {error.strerror}", file=sys.stderr)
                return 1
            return 0 if shell.run(text) else 1
        shell.interactive()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:           # the CLI never shows a traceback
        print(f"Error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        try:
            conn.close()
        except Exception as error:
            print(f"Error while closing: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
