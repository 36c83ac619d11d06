"""The result cache knows a model by its content, not its folder: answers survive a moved
folder (a reinstall, a new virtual environment), and the fingerprint is computed only when the
model's files change."""
from __future__ import annotations

import os
import shutil

import pytest

import infersql
from executor import model_fingerprint as fp

SETUP = "CREATE TABLE t AS SELECT 'item ' || range AS s FROM range(4)"
QUERY = "SELECT s, LLM('Describe it.', s, max_tokens := 4) AS d FROM t ORDER BY s"


def _copy(model: str, folder) -> str:
    return str(shutil.copytree(model, folder))


def _key(conn) -> str:
    return conn.runtime.models.cache_key(None)


def test_answers_survive_a_moved_model_folder(tiny_model, tmp_path):
    db = str(tmp_path / "moved.duckdb")
    before = _copy(tiny_model, tmp_path / "venv-a" / "model")
    with infersql.connect(db, model=before) as conn:
        conn.execute(SETUP)
        cur = conn.execute(QUERY)
        first = cur.fetchall()
        assert cur.stats.llm_calls == 4
    after = str(tmp_path / "venv-b-model")
    os.rename(before, after)
    with infersql.connect(db, model=after) as conn:
        cur = conn.execute(QUERY)
        assert cur.fetchall() == first
        assert cur.stats.llm_calls == 0 and cur.stats.cache_hits == 4
        assert conn.runtime.loaded == []            # a fully cached query loads no model


def test_the_key_follows_the_content(model_factory, tmp_path):
    with infersql.connect() as conn:
        keys = {}
        for name, model in [("a", model_factory("qwen2")), ("b", model_factory("qwen2", seed=1))]:
            conn.register_model(name, model)
            keys[name] = conn.runtime.models.cache_key(name)
        copy = _copy(model_factory("qwen2"), tmp_path / "copy")
        (tmp_path / "copy" / "README.md").write_text("a model card says nothing of answers")
        conn.register_model("copy", copy)
        assert conn.runtime.models.cache_key("copy") == keys["a"]      # same bytes, same key
        assert keys["a"] != keys["b"]                                    # other weights
        assert keys["a"].endswith(" [float32]")
        with open(os.path.join(copy, "config.json"), "a") as f:
            f.write("\n")                                                # any model file counts
        assert conn.runtime.models.cache_key("copy") != keys["a"]


def test_fingerprint_is_computed_once_and_kept_in_the_catalog(tiny_model, tmp_path, monkeypatch):
    db = str(tmp_path / "kept.duckdb")
    model = _copy(tiny_model, tmp_path / "model")
    with infersql.connect(db, model=model) as conn:
        key = _key(conn)
    calls = []
    real = fp.content_fingerprint.__wrapped__       # past the per-process memo too

    def counted(folder, stamps):
        calls.append(folder)
        return real(folder, stamps)

    monkeypatch.setattr(fp, "content_fingerprint", counted)
    with infersql.connect(db, model=model) as conn:
        assert _key(conn) == key and calls == []    # read from the catalog
        weights = os.path.join(model, "model.safetensors")
        st = os.stat(weights)
        os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        assert _key(conn) == key and len(calls) == 1    # files touched: hashed again, same bytes
        assert _key(conn) == key and len(calls) == 1    # ... and kept again


def test_a_big_weight_file_is_sampled(tmp_path, monkeypatch):
    """Past WHOLE_FILE_BYTES only the size, the safetensors header and the first and last
    MiB count: a real checkpoint is not read whole on every change."""
    monkeypatch.setattr(fp, "WHOLE_FILE_BYTES", 4 << 20)
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    body = bytearray(os.urandom(6 << 20))
    path = tmp_path / "model.safetensors"

    def digest(data: bytes, head: bytes = header) -> str:
        path.write_bytes(len(head).to_bytes(8, "little") + head + data)
        return fp.content_fingerprint.__wrapped__(str(tmp_path), fp.file_stamps(str(tmp_path)))

    base = digest(bytes(body))
    middle = bytearray(body)
    middle[3 << 20] ^= 0xFF
    assert digest(bytes(middle)) == base                     # not read: the trade-off
    first = bytearray(body)
    first[10] ^= 0xFF
    assert digest(bytes(first)) != base
    assert digest(bytes(body), header.replace(b"[1]", b"[2]")) != base


@pytest.mark.parametrize("name", ["README.md", ".hidden.json"])
def test_files_that_do_not_shape_answers_are_left_out(tmp_path, name):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / name).write_text("x")
    assert [s[0] for s in fp.file_stamps(str(tmp_path))] == ["config.json"]
