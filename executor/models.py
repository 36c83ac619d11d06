"""Which model a call means, and one loaded engine per (model, settings).

A call names a registered model, a folder or GGUF file, or nothing (the connection's default,
then the catalog's default, then the built-in model). Engines load on first use; a tokenizer
alone loads without the weights, so EXPLAIN can count tokens without loading a model.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Callable

from catalog import Catalog

from executor.engine.errors import ModelLoadError
from executor.engine.gguf_model import (GGUFUnavailableError, gguf_header, is_gguf_file,
                                        load_tokenizer)

from .model_fingerprint import model_fingerprint
from .query_errors import BadCallError, InferenceError


def check_model_path(path: str) -> None:
    """Raise BadCallError naming what ``path`` is when it is neither a model folder nor a
    readable GGUF file, since "does not exist" misleads a user who passed a weights file that
    is right there. A GGUF file is checked now (its header, its size, the packages that read
    it), so a damaged download fails at connect() or registration, not at the first query;
    reading its header imports torch (transformers' GGUF reader), a folder's check does not."""
    if os.path.isdir(path):
        return
    folder = "a Hugging Face model folder (config.json, weights, tokenizer files) or a GGUF file"
    if not os.path.exists(path):
        what = "model file" if path.lower().endswith(".gguf") else "model folder"
        raise BadCallError(f"{what} {path!r} does not exist; pass the path of {folder}")
    if is_gguf_file(path):
        try:
            gguf_header(path)
        except GGUFUnavailableError as exc:
            raise InferenceError(str(exc)) from exc
        except ModelLoadError as exc:
            raise BadCallError(str(exc)) from exc
        return
    parent = os.path.dirname(os.path.abspath(path))
    hint = (f"; pass its folder, {parent!r}" if os.path.isfile(os.path.join(parent, "config.json"))
            else f"; pass {folder}")
    raise BadCallError(f"model {path!r} is a file, not a folder{hint}")


class ModelPool:
    def __init__(self, catalog: Catalog, default_model: str | None,
                 builtin_model: Callable[[], str], engine_options: dict) -> None:
        """``builtin_model`` makes the fallback model's folder; it runs at most once."""
        self.catalog = catalog
        self.default_model = default_model
        self._builtin_model = builtin_model
        self.engine_options = dict(engine_options)
        self._engines: dict[str, object] = {}
        self._tokenizers: dict[str, object] = {}
        self._cost_models: dict[str, object] = {}
        self.lock = threading.RLock()       # one engine call at a time; tokenizers too
        self.scale = None       # executor.scale.ScaleOut: engines on Ray workers (connect(workers=))

    def resolve(self, name: str | None) -> tuple[str, dict]:
        """(path, engine options) of a model name, a folder or GGUF file, or the default."""
        if name is None:
            name = self.default_model
        if name is None:
            entry = self.catalog.default_model()
            if entry:
                return entry.path, entry.options
            if callable(self._builtin_model):            # resolve (and announce) once
                self._builtin_model = self._builtin_model()
            return self._builtin_model, {}
        entry = self.catalog.model(name)
        if entry is not None:
            return entry.path, entry.options
        if os.path.isdir(name):
            return os.path.abspath(name), {}
        if os.sep in name or name.startswith(".") or os.path.exists(name):
            check_model_path(name)                  # a GGUF file passes; anything else raises
            return os.path.abspath(name), {}
        known = ", ".join(e.name for e in self.catalog.models()) or "none registered"
        raise BadCallError(f"unknown model {name!r} (registered: {known}); register it with "
                           "connection.register_model(name, path) or pass a model folder or "
                           "GGUF file")

    def settings(self, name: str | None) -> tuple[str, dict]:
        """(folder, engine options): the connection's options under the model's own; the
        engine's defaults apply to the rest (eviction ``belady``: a query's request order is
        known, and at half a workload's prefix KV Belady recomputes several times less than
        LRU, bench/BENCHMARKS.md, policy_bench)."""
        path, options = self.resolve(name)
        return path, {**self.engine_options, **options}

    def engine(self, name: str | None = None):
        """The loaded engine for a model, loading it on first use."""
        from executor.engine import EngineConfig, EngineError

        path, merged = self.settings(name)
        key = json.dumps([path, merged], sort_keys=True, default=str)
        with self.lock:
            if key not in self._engines:
                try:
                    config = EngineConfig(model=path, **merged)
                    self._engines[key] = self._new_engine(config, name)
                except (EngineError, TypeError) as exc:
                    raise InferenceError(f"model {name or path!r} failed to load: {exc}") from exc
            return self._engines[key]

    def _new_engine(self, config, name: str | None):
        """One engine in this process, or with scale-out a pool of engines on Ray workers
        (the same ``generate`` contract)."""
        if self.scale is None:
            from executor.engine import Engine

            return Engine(config, cost_model=self.cost_model(name))
        from .scale.pool import EnginePool

        return EnginePool(config, self.cost_model(name), self.scale, lambda: self.tokenizer(name))

    def workers(self, name: str | None = None) -> int | None:
        """How many engines a call's requests are spread over; None without scale-out."""
        if self.scale is None:
            return None
        engine = self.loaded_engine(name)
        if engine is not None:
            return engine.workers
        from .scale.cluster import worker_count

        return worker_count(self.scale, str(self.engine_config(name).device))

    def close(self) -> None:
        """Stop the engines that run outside this process (scale-out workers)."""
        with self.lock:
            for engine in self._engines.values():
                if hasattr(engine, "close"):
                    engine.close()
            self._engines.clear()

    def engine_config(self, name: str | None = None):
        """The EngineConfig a call's engine has (or would have), without loading it."""
        from executor.engine import EngineConfig

        path, merged = self.settings(name)
        return EngineConfig(model=path, **merged)

    def cost_model(self, name: str | None = None):
        """The model's cost model on its device and dtype: the one ``infersql calibrate``
        stored in the catalog, else the default derived from its size (``.calibrated`` says
        which). The engine's scheduler, the simulator and EXPLAIN all read this one."""
        from executor.engine.cost_model import load_cost_model

        config = self.engine_config(name)
        key = json.dumps([config.model, config.device, config.dtype, config.block_size,
                          config.compile])
        with self.lock:
            if key not in self._cost_models:
                with self.catalog.cursor() as con:
                    self._cost_models[key] = load_cost_model(con, config.model, config.device,
                                                             config.dtype, config.block_size,
                                                             config.compile)
            return self._cost_models[key]

    def loaded_engine(self, name: str | None = None):
        """The call's engine if it is already loaded, else None (nothing is loaded)."""
        path, merged = self.settings(name)
        return self._engines.get(json.dumps([path, merged], sort_keys=True, default=str))

    def tokenizer(self, name: str | None = None):
        """The model's tokenizer: the loaded engine's, or the tokenizer files alone."""
        engine = self.loaded_engine(name)
        if engine is not None:
            return engine.tokenizer
        path, _ = self.settings(name)
        with self.lock:
            if path not in self._tokenizers:
                try:
                    self._tokenizers[path] = load_tokenizer(path)
                except Exception as exc:       # noqa: BLE001 - any loading failure, said plainly
                    raise InferenceError(f"model {name or path!r}: cannot load its tokenizer "
                                         f"({type(exc).__name__}: {exc})") from exc
            return self._tokenizers[path]

    def cache_key(self, name: str | None) -> str:
        """The result cache's name for a model: its content's fingerprint (not its folder, so
        answers survive a reinstall or a moved folder; ``executor.model_fingerprint``) and the
        dtype it runs in, since float32 and bfloat16 answers can differ. Known without loading
        the model, so a fully cached query never loads it. (The default dtype is the
        engine's: bfloat16 on CUDA, float32 elsewhere.)"""
        path, merged = self.settings(name)
        device = str(merged.get("device") or "cpu")
        dtype = merged.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32")
        return f"sha256:{model_fingerprint(path, self.catalog)[:32]} [{dtype}]"

    @property
    def loaded(self) -> list:
        return list(self._engines.values())
