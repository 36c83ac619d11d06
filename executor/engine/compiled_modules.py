"""Fusing each layer's elementwise work with ``torch.compile`` (``EngineConfig.compile``).

Why: run eagerly, a layer's norms and MLP are a chain of separate operators (a norm is a cast,
a square, a mean, a reciprocal square root and two products; the MLP's activation and product
are two more), each a pass over memory and a trip through torch's dispatcher. In bfloat16 on
a CPU with AMX the matrix products become cheap and that chain is what is left: SmolLM2-135M
over 64 movie prompts spent 35% of operator time in elementwise work and 30% in products
(``bench/engine_profile.py``). Compiling just those modules with inductor fuses each chain into
one kernel: the same 64 prompts took 2.1-2.4 s instead of 3.2 s in bfloat16, about 10% less in
float32 (bench/BENCHMARKS.md).

What: every module whose class is a norm (``*RMSNorm``) or an MLP (``*MLP``), as transformers
names them for Llama, Qwen, Mistral, Gemma and Phi, gets its forward compiled with dynamic
shapes (an iteration's token count changes every step). Attention stays ours (paged, driven by
Python over the batch), so the compiled graphs are small and never break. Modules of one class
share their graph: one compilation serves all layers.

The compiler needs a C++ compiler at run time and takes seconds on first use (cached on disk
after). If it fails, the model runs eagerly from then on and a warning says why: compiling is
a speed-up, never a reason for a query to fail.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_FUSED_SUFFIXES = ("RMSNorm", "MLP")


class _Fallback:
    """Shared by a model's compiled modules: after one failure, all of them run eagerly."""

    def __init__(self) -> None:
        self.failed: str | None = None


class _CompiledForward:
    """A module's forward, compiled, with its eager forward kept for the fallback."""

    def __init__(self, eager, compiled, fallback: _Fallback) -> None:
        self.eager, self.compiled, self.fallback = eager, compiled, fallback

    def __call__(self, *args, **kwargs):
        if self.fallback.failed is None:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:   # noqa: BLE001 - no compiler, an unsupported op: run eager
                self.fallback.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                log.warning("torch.compile failed, the model runs eagerly: %s", self.fallback.failed)
        return self.eager(*args, **kwargs)


def compile_modules(model) -> int:
    """Compile the forward of every norm and MLP module of ``model`` in place; how many."""
    import torch

    fallback = _Fallback()
    count = 0
    for module in model.modules():
        if type(module).__name__.endswith(_FUSED_SUFFIXES):
            eager = module.forward
            module.forward = _CompiledForward(eager, torch.compile(eager, dynamic=True), fallback)
            count += 1
    model._infersql_compile_fallback = fallback
    return count


def compile_failure(model) -> str | None:
    """Why compiling failed for ``model`` (it then runs eagerly), or None."""
    fallback = getattr(model, "_infersql_compile_fallback", None)
    return None if fallback is None else fallback.failed
