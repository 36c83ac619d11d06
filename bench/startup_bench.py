"""Start-up cost of the ``infersql`` command, against peers measured side by side in one run.

Fresh processes, each timed wall-clock from spawn to exit, median of ``--repeat`` runs:
  plain SQL   ``infersql -c "SELECT 1"``        vs  DuckDB alone (import, connect, SELECT 1)
  one LLM     ``infersql -c "SELECT LLM('hi')"`` vs  HF alone (import transformers, load the
              same model folder, ``generate`` the same number of tokens greedily)
Then one process broken into phases (imports, connect, torch/transformers import, model load,
the first LLM statement, a second statement of the same shape), to show where the time goes.

    python bench/startup_bench.py                     # built-in model, 5 runs each
    python bench/startup_bench.py --model /path/to/hf-folder --repeat 3
    python bench/startup_bench.py --baseline /tmp/old     # also time an older checkout's CLI
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(REPO))

DUCKDB_PEER = "import duckdb; duckdb.connect().execute('SELECT 1').fetchall()"
HF_PEER = """
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging; logging.disable_progress_bar()
path, n = sys.argv[1], int(sys.argv[2])
tok = AutoTokenizer.from_pretrained(path)
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                               add_generation_prompt=True) if tok.chat_template else "hi"
ids = tok(text, return_tensors="pt")
with torch.inference_mode():
    model.generate(**ids, max_new_tokens=n, do_sample=False)
"""
PHASES = """
import json, sys, time
t = [time.perf_counter()]
import infersql
t.append(time.perf_counter())
conn = infersql.connect(model=sys.argv[1] or None)
conn.execute("SELECT 1").fetchall()
t.append(time.perf_counter())
import torch, transformers
t.append(time.perf_counter())
conn.engine
t.append(time.perf_counter())
conn.execute("SELECT LLM('hi')").fetchall()
t.append(time.perf_counter())
conn.execute("SELECT LLM('ho')").fetchall()
t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
PHASE_NAMES = ["import infersql", "connect + SELECT 1", "import torch + transformers",
               "model load", "first LLM('hi')", "second LLM('ho'), same shape"]


def timed(cmd: list[str], env: dict | None = None, cwd=None) -> float:
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env or ENV, cwd=cwd or REPO)
    elapsed = time.perf_counter() - started
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return elapsed


def median_of(cmd: list[str], repeat: int) -> float:
    return statistics.median(timed(cmd) for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model folder (default: the built-in model)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="an older checkout (e.g. `git archive COMMIT | tar -x -C DIR`) whose "
                         "`infersql -c` is timed beside this one")
    args = ap.parse_args()
    py = sys.executable
    sys.path.insert(0, str(REPO))
    from common import machine, model_path

    model = args.model
    if model is None:             # the built-in model if it is there, else a tiny random one
        import infersql
        with infersql.connect() as conn:
            model = conn.runtime.resolve(None)[0]
        if not os.path.isdir(model):
            model = model_path(None, "tiny")
    tokens = 32           # the default max_tokens of LLM(...)
    cli = [py, "-m", "infersql.cli", "-m", model, "--csv", "-c"]
    timed(cli + ["SELECT LLM('hi')"])          # warm the OS file cache for everyone

    rows = [
        ("plain SQL", median_of(cli + ["SELECT 1"], args.repeat),
         "DuckDB alone", median_of([py, "-c", DUCKDB_PEER], args.repeat)),
        ("one LLM('hi')", median_of(cli + ["SELECT LLM('hi')"], args.repeat),
         f"HF load + generate {tokens}", median_of([py, "-c", HF_PEER, model, str(tokens)], args.repeat)),
    ]
    if args.baseline:
        old_env = dict(ENV, PYTHONPATH=str(Path(args.baseline).resolve()))
        for name, sql in (("plain SQL", "SELECT 1"), ("one LLM('hi')", "SELECT LLM('hi')")):
            ours = [r for r in rows if r[0] == name][0][1]
            old = statistics.median(timed([py, "-m", "infersql.cli", "-m", model, "-c", sql],
                                          old_env, args.baseline) for _ in range(args.repeat))
            rows.append((name, ours, "baseline checkout", old))
    print(f"machine: {machine()}, python {platform.python_version()}")
    print(f"model {model}; median of {args.repeat} runs")
    print(f"{'infersql':<16}{'seconds':>9}  {'peer':<26}{'seconds':>9}{'ratio':>8}")
    for name, ours, peer_name, peer in rows:
        print(f"{name:<16}{ours:>9.2f}  {peer_name:<26}{peer:>9.2f}{ours / peer:>7.2f}x")

    out = subprocess.run([py, "-c", PHASES, model], capture_output=True, text=True, env=ENV, cwd=REPO)
    if out.returncode != 0:
        sys.exit(out.stderr[-2000:])
    phases = json.loads(out.stdout.strip().splitlines()[-1])
    print("\none process, by phase:")
    for name, seconds in zip(PHASE_NAMES, phases):
        print(f"  {name:<32}{seconds:>7.3f} s")
    print(f"  first / second LLM statement: {phases[4] / phases[5]:.2f}x")


if __name__ == "__main__":
    main()
