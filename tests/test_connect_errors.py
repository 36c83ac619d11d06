"""A bad model or device fails at ``connect()`` (and so at the CLI's start), with an error that
names the real cause and the fix, not at the first LLM query with a misleading one."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import infersql


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.getcwd())


def test_a_missing_model_folder_fails_at_connect(tmp_path):
    db = str(tmp_path / "m.duckdb")
    with pytest.raises(infersql.ProgrammingError, match="'/no/such/folder' does not exist"):
        infersql.connect(db, model="/no/such/folder")
    with pytest.raises(infersql.ProgrammingError, match="unknown model 'nope'.*register_model"):
        infersql.connect(db, model="nope")
    with infersql.connect(db) as conn:              # the failed connections let go of the file
        assert conn.execute("SELECT 1").fetchall() == [(1,)]


def test_a_registered_name_or_a_path_object_connects(tiny_model, tmp_path):
    db = str(tmp_path / "r.duckdb")
    with infersql.connect(db) as conn:
        conn.register_model("tiny", pathlib.Path(tiny_model))
    for model in ("tiny", pathlib.Path(tiny_model)):
        with infersql.connect(db, model=model) as conn:
            assert conn.runtime.resolve(None)[0] == tiny_model
            assert conn.runtime.loaded == []            # resolved, not loaded


def test_a_weights_file_is_not_a_folder(tiny_model):
    weights = os.path.join(tiny_model, "model.safetensors")
    with infersql.connect() as conn:
        for fails in (lambda: infersql.connect(model=weights),
                      lambda: conn.register_model("w", weights)):
            with pytest.raises(infersql.ProgrammingError) as info:
                fails()
            message = str(info.value)
            assert "is a file, not a folder" in message and "does not exist" not in message
            assert f"pass its folder, {tiny_model!r}" in message


def test_a_damaged_gguf_file_fails_at_connect_naming_it(tmp_path):
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    gguf = tmp_path / "smollm2-135m.Q4_1.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(infersql.ProgrammingError,
                       match="cannot read the GGUF file .*smollm2-135m.Q4_1.gguf.*truncated"):
        infersql.connect(model=str(gguf))


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_fails_at_connect():
    import torch

    with pytest.raises(infersql.OperationalError) as info:
        infersql.connect(device="cuda")
    message = str(info.value)
    assert "device='cpu'" in message and "Torch not compiled" not in message
    if torch.version.cuda is None:
        assert "built without CUDA" in message and "install a CUDA build of torch" in message


def test_an_unknown_device_is_a_programming_error():
    with pytest.raises(infersql.ProgrammingError, match="unknown device 'gpu'"):
        infersql.connect(device="gpu")


def test_checking_model_and_cpu_device_imports_no_torch(tiny_model):
    code = (f"import sys, infersql; c = infersql.connect(model={tiny_model!r}, device='cpu'); "
            "assert c.execute('SELECT 1').fetchall() == [(1,)]; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=_env())
    assert p.returncode == 0, p.stderr[-2000:]


def test_cli_reports_a_bad_model_before_running_anything(tmp_path):
    p = subprocess.run([sys.executable, "-m", "infersql.cli", "-m", "/no/such/folder",
                        "-c", "SELECT 42"], capture_output=True, text=True, timeout=120,
                       env=_env())
    assert p.returncode == 1 and "42" not in p.stdout
    assert "does not exist" in p.stderr and "Traceback" not in p.stderr
