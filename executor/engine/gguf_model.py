"""A GGUF file (llama.cpp's and Ollama's format) as a model, beside a Hugging Face folder.

Why: people who run llama.cpp or Ollama have GGUF files, not folders. transformers reads
them (``from_pretrained(folder, gguf_file=name)``, with the ``gguf`` and ``accelerate``
packages): config and tokenizer, chat template included, come from the file's metadata, and
the weights are dequantized to floats. Everything that used to assume a folder asks here:
``pretrained_source`` gives from_pretrained's arguments, ``gguf_header`` checks the file (a
truncated download fails with its name, not deep inside a loader), and ``gguf_config`` gives
the model's shape from the metadata alone, in milliseconds, so EXPLAIN and the simulator never
dequantize. transformers' own config path for most architectures parses every metadata field
of the file with the ``gguf`` package, seconds for a 49k-token vocabulary.

An Ollama blob has no ``.gguf`` suffix, so a file is taken as GGUF by its suffix or by the
magic bytes it starts with.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import os

from .errors import ModelLoadError

GGUF_EXTRA = "pip install 'infersql[gguf]'"
_MAGIC = b"GGUF"
_PACKAGES = ("gguf", "accelerate")       # what transformers needs to read and load a GGUF


class GGUFUnavailableError(ModelLoadError):
    """The model is a GGUF file and the packages that read GGUF are not installed."""


def is_gguf_file(path: str) -> bool:
    """A file named ``*.gguf``, or any file that starts with the GGUF magic (Ollama's blobs)."""
    if not os.path.isfile(path):
        return False
    if path.lower().endswith(".gguf"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(len(_MAGIC)) == _MAGIC
    except OSError:
        return False


def pretrained_source(path: str) -> tuple[str, dict]:
    """from_pretrained's arguments for a model path: a folder as it is; a GGUF file (checked
    first) as its folder and ``gguf_file=`` its name."""
    if not is_gguf_file(path):
        return path, {}
    gguf_header(path)
    real = os.path.abspath(path)
    return os.path.dirname(real), {"gguf_file": os.path.basename(real)}


def dequantized(source: dict) -> dict:
    """``from_pretrained``'s model arguments for ``source``: a GGUF file's weights unpacked to
    dense floats at load. Recent transformers may otherwise keep them packed for matmul kernels
    fetched from the Hugging Face hub, which this machine may not reach; dense weights are what
    the engine's oracle tests, ``compile=True`` and the KV geometry assume (and without the
    option transformers warns, wrongly on CPU, that bfloat16 casts every matmul)."""
    if not source:
        return source
    try:
        from transformers import GgufConfig
    except ImportError:                 # older transformers: always dequantized
        return source
    return {**source, "quantization_config": GgufConfig(dequantize=True)}


def load_tokenizer(path: str):
    """The tokenizer of a model folder or GGUF file. A GGUF file's tokenizer is built from its
    metadata by transformers' fast tokenizer class directly: AutoTokenizer would first rebuild
    the whole config with the ``gguf`` package's slow parser only to choose that same class
    (10 s against 1 s for SmolLM2's 49k tokens here)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    folder, source = pretrained_source(path)
    if source:
        return PreTrainedTokenizerFast.from_pretrained(folder, **source)
    return AutoTokenizer.from_pretrained(folder)


@contextlib.contextmanager
def gguf_loading(active: bool = True):
    """While transformers loads a GGUF file's weights: its dequantizing progress bar, which
    ignores transformers' own switch, is off (it would land in the CLI's output), and the
    ``gguf`` package's tensor name table is built once rather than once per module of the
    model (397 times for SmolLM2: 6 of its 15 CPU seconds of loading here)."""
    if not active:
        yield
        return
    import gguf
    from transformers import modeling_gguf_pytorch_utils as loader

    bar, name_map = loader.tqdm, gguf.get_tensor_name_map
    loader.tqdm = functools.partial(bar, disable=True)
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=4)(name_map)
    try:
        yield
    finally:
        loader.tqdm, gguf.get_tensor_name_map = bar, name_map


def require_gguf_packages(path: str) -> None:
    missing = [name for name in _PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise GGUFUnavailableError(
            f"model {path!r} is a GGUF file, and reading GGUF needs the {' and '.join(missing)} "
            f"package{'s' if len(missing) > 1 else ''}: {GGUF_EXTRA}")


def gguf_header(path: str):
    """The file's tensor table (transformers' ``GgufHeader``), checked against the file's
    size. Raises ModelLoadError naming the file."""
    return _read_checked(path)[0]


def gguf_config(path: str) -> dict:
    """The model's config keys (``num_hidden_layers``, ``hidden_size``, ...) from the file's
    metadata alone, renamed with transformers' own table, so the shape is the one its loader
    builds. The vocabulary size falls back to the token list's length, as transformers does."""
    return dict(_read_checked(path)[1])


def _read_checked(path: str) -> tuple:
    require_gguf_packages(path)
    real = os.path.realpath(path)
    st = os.stat(real)
    return _read(real, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)        # per (file, size, mtime): a rewritten file is read again
def _read(path: str, size: int, _mtime_ns: int) -> tuple:
    from transformers.integrations.gguf import GgufHeader

    try:
        header = GgufHeader.from_file(path)
    except Exception as exc:  # noqa: BLE001 - struct, mmap and format errors: one clear message
        raise ModelLoadError(f"cannot read the GGUF file {path!r}: {_reason(exc)}; if it was "
                             "cut short, copy or download it again") from exc
    needed = max((header.data_start + t.offset + t.nbytes for t in header.tensors),
                 default=header.data_start)
    if needed > size:
        raise ModelLoadError(f"the GGUF file {path!r} is truncated: it has {size:,} bytes and "
                             f"its tensors need {needed:,}; copy or download it again")
    return header, _config(path, header.architecture)


def _reason(exc: Exception) -> str:
    """transformers' format errors say what is wrong; a short read or an empty file does not."""
    import struct

    if isinstance(exc, struct.error) or "empty file" in str(exc):
        return "the file ends inside its header (damaged or truncated)"
    return f"{exc}"


def _config(path: str, arch: str) -> tuple:
    from transformers.integrations.ggml import GGUF_CONFIG_MAPPING
    from transformers.integrations.gguf import (GGUF_CONFIG_ARCHS, get_gguf_config,
                                                read_gguf_metadata)

    metadata, tensor_names = read_gguf_metadata(path)
    if arch in GGUF_CONFIG_ARCHS:
        return tuple(get_gguf_config(metadata, tensor_names).items())
    renames = GGUF_CONFIG_MAPPING.get(arch)
    if renames is None:
        raise ModelLoadError(f"the GGUF file {path!r} holds a {arch!r} model, which "
                             "transformers cannot load from GGUF")
    config = {hf: metadata[f"{arch}.{key}"] for key, hf in renames.items()
              if hf and f"{arch}.{key}" in metadata}
    if "vocab_size" not in config and isinstance(metadata.get("tokenizer.ggml.tokens"), int):
        config["vocab_size"] = metadata["tokenizer.ggml.tokens"]       # the list's length
    return tuple(config.items())
