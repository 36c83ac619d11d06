"""A model's identity by content, so the result cache outlives where the model lives.

The result cache used to be keyed by the model folder's absolute path, so a reinstall, a new
virtual environment or a moved folder lost every cached answer. The fingerprint is a sha256
over what decides the model's answers: the name and bytes of every file transformers reads
when it loads the model (config, generation config, tokenizer files, chat template, weights).
Documentation (README.md, the model card) and hidden files are left out, so editing them
keeps the cache. A GGUF file holds all of these in one file, and is hashed by its content
alone (``gguf_fingerprint``).

Each file is hashed whole up to ``WHOLE_FILE_BYTES``. A larger file (the weights of a real
checkpoint, gigabytes) is sampled: its size, its safetensors header (the tensor names, shapes
and offsets) and its first and last MiB. Reading gigabytes would cost seconds on every change
of the folder, and a fine-tune or another checkpoint of the same shape changes every tensor,
so its first and last MiB differ too. The built-in model (4.4 MB) is hashed whole in
milliseconds.

Computing it reads no weights into torch and imports nothing heavy, so a fully cached query
still never loads the model. ``model_fingerprint`` remembers fingerprints in the catalog and
per process, keyed by the folder's real path and each file's size and mtime (``file_stamps``),
so a fingerprint is recomputed only when the files change.
"""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import os
import struct

from catalog import Catalog

WHOLE_FILE_BYTES = 64 << 20     # files up to this size are hashed whole
SAMPLE_BYTES = 1 << 20          # a larger file: its first and last MiB (and its header)

# What transformers reads to build a model and its tokenizer; anything else does not change
# an answer. ``*.py`` covers models with code of their own (trust_remote_code).
MODEL_FILES = ("*.json", "*.safetensors", "*.bin", "*.pt", "*.model", "*.txt", "*.tiktoken",
               "*.jinja", "*.py")

FileStamps = tuple[tuple[str, int, int], ...]      # (name, size, mtime_ns), sorted by name


def model_fingerprint(path: str, catalog: Catalog) -> str:
    """The fingerprint of the model in ``path`` (a folder, or a GGUF file): the catalog's if
    the files are unchanged since it was stored, else computed (once per process) and stored."""
    real = os.path.realpath(path)
    gguf = os.path.isfile(real)
    stamps = _file_stamp(real) if gguf else file_stamps(real)
    files = json.dumps(stamps)
    known = catalog.model_fingerprint(real, files)
    if known is None:
        known = gguf_fingerprint(real, stamps) if gguf else content_fingerprint(real, stamps)
        catalog.remember_model_fingerprint(real, files, known)
    return known


def file_stamps(folder: str) -> FileStamps:
    """The model files of ``folder`` (a real path) with their size and mtime: cheap to read
    (one stat each), and they change whenever a file is rewritten."""
    stamps = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not any(
                    fnmatch.fnmatch(entry.name, pattern) for pattern in MODEL_FILES):
                continue
            if entry.is_file():                    # follows links, as in a Hub cache snapshot
                st = entry.stat()
                stamps.append((entry.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(stamps))


def _file_stamp(path: str) -> FileStamps:
    st = os.stat(path)
    return ((os.path.basename(path), st.st_size, st.st_mtime_ns),)


@functools.lru_cache(maxsize=32)     # per process; the arguments change with the files
def content_fingerprint(folder: str, stamps: FileStamps) -> str:
    """The sha256 (hex) of the files in ``stamps``, by name and content."""
    digest = hashlib.sha256()
    for name, size, _mtime in stamps:
        digest.update(f"{name}\0{size}\0".encode())
        with open(os.path.join(folder, name), "rb") as f:
            data_start = _safetensors_data_start(f, size) if name.endswith(".safetensors") else 0
            _hash_file(f, size, data_start, digest)
    return digest.hexdigest()


@functools.lru_cache(maxsize=32)
def gguf_fingerprint(path: str, stamps: FileStamps) -> str:
    """The sha256 (hex) of a GGUF file's content, without its name, so a renamed or moved file
    keeps its answers. A large file is sampled like a large safetensors file: the whole
    header (metadata, chat template, tokenizer, tensor table) and the first and last MiB of
    the tensor data."""
    (_name, size, _mtime), = stamps
    digest = hashlib.sha256(f"gguf\0{size}\0".encode())
    data_start = 0
    if size > WHOLE_FILE_BYTES:
        from executor.engine.gguf_model import gguf_header

        data_start = gguf_header(path).data_start
    with open(path, "rb") as f:
        _hash_file(f, size, data_start, digest)
    return digest.hexdigest()


def _safetensors_data_start(f, size: int) -> int:
    """Where a safetensors file's tensors begin: after an 8-byte length and the JSON header."""
    if size <= WHOLE_FILE_BYTES:
        return 0
    (header_len,) = struct.unpack("<Q", f.read(8))
    f.seek(0)
    return 8 + min(header_len, size - 8)


def _hash_file(f, size: int, data_start: int, digest) -> None:
    """The whole file if it is small; else its header (up to ``data_start``) whole and the
    first and last MiB of what follows."""
    if size <= WHOLE_FILE_BYTES:
        for block in iter(lambda: f.read(SAMPLE_BYTES), b""):
            digest.update(block)
        return
    f.seek(0)
    digest.update(f.read(data_start))
    f.seek(data_start)
    digest.update(f.read(SAMPLE_BYTES))
    f.seek(max(data_start, size - SAMPLE_BYTES))
    digest.update(f.read(SAMPLE_BYTES))
