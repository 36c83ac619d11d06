"""Shared by the benchmarks: reading ../shared/data, building prompts, choosing a model.

The benchmark tables are never copied into the repository; every script reads them through its
``--data`` option (a folder holding movies.csv etc., or one CSV file).
"""
from __future__ import annotations

import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"

sys.path.insert(0, str(REPO))


def data_file(data: str | os.PathLike, table: str) -> Path:
    """``table``.csv in a data folder (or ``data`` itself if it is a CSV file); exits if absent."""
    path = Path(data)
    if path.is_dir():
        path = path / f"{table}.csv"
    if not path.exists():
        sys.exit(f"no data at {path}: pass --data pointing at the folder that holds {table}.csv")
    return path


def load_rows(data: str | os.PathLike, table: str) -> list[dict]:
    """Rows of ``table``.csv from a data folder (or ``data`` itself if it is a CSV file)."""
    path = data_file(data, table)
    csv.field_size_limit(1 << 24)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sample_rows(rows: list[dict], n: int, seed: int = 0) -> list[dict]:
    """A fixed random sample, kept in file order (rows of one movie stay together)."""
    if n >= len(rows):
        return rows
    keep = sorted(random.Random(seed).sample(range(len(rows)), n))
    return [rows[i] for i in keep]


def clip(text: str, words: int) -> str:
    """The first ``words`` words: keeps prompts near 450 tokens with the demo tokenizer."""
    parts = text.split()
    return " ".join(parts[:words])


def movie_prompt(row: dict) -> str:
    """The benchmark's common instruction over one review row; the movie's fields come first,
    so reviews of one movie share a long prefix, as a prefix-aware plan would lay them out."""
    return ("Does the critic recommend the movie? Answer yes or no.\n"
            f"movietitle: {row['movietitle']}\n"
            f"movieinfo: {clip(row['movieinfo'], 120)}\n"
            f"genres: {row['genres']}\n"
            f"reviewcontent: {clip(row['reviewcontent'], 60)}\n"
            "answer:")


REVIEW_FILTER = "SELECT title FROM r WHERE LLM_FILTER('Does the critic recommend the film?', title, info, review)"


def create_review_table(conn, data: str | os.PathLike, rows: int) -> None:
    """Table ``r(title, info, review)``: ``rows`` shuffled movie reviews, the description and
    review clipped so that a prompt fits the built-in model's 1,024-token context."""
    conn.execute(f"CREATE TABLE r AS SELECT movietitle AS title, left(movieinfo, 300) AS info, "
                 f"left(reviewcontent, 200) AS review FROM read_csv_auto('{data_file(data, 'movies')}') "
                 f"ORDER BY hash(reviewcontent) LIMIT {rows}")


def calibrate_into(database: str, model: str | None, repeats: int = 3) -> None:
    """``infersql calibrate`` in this process (on the main thread), stored in ``database``."""
    from infersql.calibrate import main as calibrate

    calibrate((["--model", model] if model else []) + ["--database", database, "--scale", "0.5",
                                                       "--repeats", str(repeats)])


def model_path(given: str | None, size: str) -> str:
    """``given`` (a folder or a GGUF file) as is, or a random Qwen2 of ``size`` built once
    into the temp folder."""
    if given:
        return given
    from infersql.demo_model import build_random_model

    folder = Path(tempfile.gettempdir()) / f"infersql-bench-qwen2-{size}"
    if not (folder / "config.json").exists():
        from executor.engine.compute_thread import on_compute_thread

        on_compute_thread(build_random_model, folder, "qwen2", size=size, seed=0)   # see peer_folder
    return str(folder)


def peer_folder(path: str) -> str:
    """A Hugging Face folder of the model for the peers that read only folders (HF generate,
    vLLM): ``path`` itself, or for a GGUF file its dequantized float32 weights, config and
    tokenizer, written once into the temp folder, so every system runs the same weights.
    transformers refuses ``save_pretrained`` on a GGUF-loaded model, so a fresh model of the
    same config takes its state dict."""
    from executor.engine.compute_thread import on_compute_thread
    from executor.engine.gguf_model import is_gguf_file

    if not is_gguf_file(path):
        return path
    st = os.stat(path)
    name = f"infersql-bench-{Path(path).stem}-{st.st_size}-{st.st_mtime_ns}-f32"
    folder = Path(tempfile.gettempdir()) / name
    if not (folder / "config.json").exists():
        # on the engine's compute thread: torch work on this one would start a second OpenMP
        # team for the rest of the process (executor/engine/compute_thread.py)
        on_compute_thread(_write_float32_folder, path, folder)
    return str(folder)


def _write_float32_folder(path: str, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from executor.engine.gguf_model import dequantized, gguf_loading, load_tokenizer, pretrained_source

    src, source = pretrained_source(path)
    with gguf_loading():
        loaded = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32, **dequantized(source))
    config = loaded.config
    if getattr(config, "quantization_config", None) is not None:
        del config.quantization_config          # the weights written are plain float32:
                                                # vLLM would refuse the "gguf" method
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    fresh.save_pretrained(folder)
    load_tokenizer(path).save_pretrained(folder)


def model_label(given: str | None, size: str) -> str:
    """How the notes name the model: its file or folder name, or the random model's size."""
    return os.path.basename(os.path.normpath(given)) if given else f"random qwen2 {size}"


def machine() -> str:
    """One line naming the machine, for BENCHMARKS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        cpu = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                   if line.startswith("Model name"))
    except Exception:
        pass
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")


def run_vllm_peer(python: str, job: dict, kv_cache_gib: int = 2) -> dict:
    """Run bench/vllm_peer.py on ``job`` with the vLLM venv's ``python``; its JSON answer.
    Raises RuntimeError with vLLM's root-cause error line when it fails (e.g. a head size
    its CPU kernels lack)."""
    import json
    import re

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w") as f:
            json.dump(job, f)
        env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=str(kv_cache_gib),
                   VLLM_LOGGING_LEVEL="ERROR")
        proc = subprocess.run([python, str(REPO / "bench" / "vllm_peer.py"), src, dst],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, cwd=tmp)
        if proc.returncode != 0:
            root = re.search(r"\w*Error: .*", proc.stdout)    # the first one is the cause
            raise RuntimeError(root.group(0) if root else proc.stdout[-500:])
        with open(dst) as f:
            return json.load(f)
