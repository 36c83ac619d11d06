"""A linear cost model of one engine iteration (InferMax, Kim et al., arXiv 2411.07447).

Why linear in these terms: an iteration's time is the projections and MLP over every token
(``tokens``), the LM head over the rows someone samples (``logit_rows``), decode attention that
reads each decoding sequence's whole KV (``decode_kv``), prefill attention that is quadratic in
a chunk and linear in the cached context before it (``prefill_attn`` = Σ c² + 2·c·m, and
``prefill_cached`` = Σ m for the gather), fixed per-iteration, per-phase and per-sequence
overheads, and host copies for swapped blocks. Beside the iteration terms, ``request`` prices
what each request costs beyond its iterations' price (admission, scoring, building its
output, and what single-pass iterations cost over the calibrated fastest-of-repeats ones),
which a filter over many short rows pays once per row; calibration fits it on whole
``generate`` calls (``cost_fit.request_seconds``). Written per layer,
t = L·[a_o·N + b_o + a_d·ΣKV_decode + b_d + s_d·B_d + a_p·Σ(c_i² + 2·c_i·m_i) + b_p + s_p·P +
m_p·Σm_i]; here the layer count L is folded into the coefficients, which ``fit`` finds by least
squares on measured iterations (``cost_fit.py``, run by ``infersql calibrate``), weighted for
relative error.

One term is not linear: the first tokens of an iteration cost more each than the rest. BLAS
multiplies one to three rows as matrix-vector products that stream each weight once, and from a
handful of rows on it packs the weights for a blocked product first (SmolLM2 on two Xeon cores:
a decode row from 1 to 2 costs +1 ms, from 2 to 8 +30 ms, from 8 to 24 +18 ms). So the projections
cost ``tokens_below_knee``·min(N, knee) on top of the linear ``tokens``·N: a concave piecewise
line whose knee ``fit_with_knee`` picks among a few candidates at calibration (0: no knee). On
SmolLM2 it took the held-out error from 8.7% to 6.4%.

One place to get a model: ``load_cost_model`` returns the calibrated one from the catalog, or a
default from the parameter count and the device (``calibrated == False``). The optimizer,
the scheduler (cost-aware preemption, the decode batch size) and EXPLAIN all read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterable

from .geometry import ModelGeometry, bytes_per_block, default_dtype, read_geometry
from .sequence import Chunk


@dataclass
class IterationShape:
    """The terms of one iteration. A one-token chunk counts as a decode (it attends like one)."""

    tokens: int = 0            # N: tokens computed
    iteration: int = 1         # 1 for every iteration (the fixed cost)
    decode_kv: int = 0         # Σ KV length read by decoding sequences
    decode_any: int = 0        # 1 if any sequence decodes
    decode_seqs: int = 0       # B_d
    prefill_attn: int = 0      # Σ c_i² + 2·c_i·m_i
    prefill_any: int = 0       # 1 if any chunk prefills
    prefill_chunks: int = 0    # P
    prefill_cached: int = 0    # Σ m_i
    logit_rows: int = 0        # rows projected through the LM head
    swap_blocks: int = 0       # blocks copied to or from host memory

    @classmethod
    def of(cls, chunks: Iterable[Chunk], swap_blocks: int = 0) -> "IterationShape":
        s = cls(swap_blocks=swap_blocks)
        for ch in chunks:
            c, m = ch.end - ch.start, ch.start
            s.tokens += c
            s.logit_rows += len(ch.seq.logit_positions(ch.start, ch.end))
            if c == 1:
                s.decode_seqs += 1
                s.decode_kv += ch.end
            else:
                s.prefill_chunks += 1
                s.prefill_attn += c * c + 2 * c * m
                s.prefill_cached += m
        s.decode_any = int(s.decode_seqs > 0)
        s.prefill_any = int(s.prefill_chunks > 0)
        return s

    def vector(self) -> list[float]:
        return [float(getattr(self, t)) for t in TERMS]


TERMS = tuple(f.name for f in fields(IterationShape))
REQUEST = "request"        # seconds per request beyond its iterations' price; not an iteration term
KNEE = "tokens_below_knee"  # seconds per token of min(tokens, knee): the small-batch premium
KNEE_CANDIDATES = (0, 2, 4, 8, 16, 32, 64)

# Rough device figures for the uncalibrated default. CPU: 2 cores of an AMD EPYC with
# AVX512-BF16, measured at 130-160 GFLOP/s on 2048² fp32 matrix products and 380 in bf16;
# CUDA: a conservative datacenter GPU. per_request is host-side Python work on either:
# calibration measured 1.5-2.9e-4 s on that EPYC.
_DEVICE = {
    "cpu": dict(flops={"float32": 140e9, "bfloat16": 380e9, "float16": 140e9}, mem_bw=10e9,
                host_bw=5e9, fixed=1.5e-3, per_layer=2e-4, per_seq=4e-5, per_request=2e-4),
    "cuda": dict(flops={"float32": 50e12, "bfloat16": 300e12, "float16": 300e12}, mem_bw=2e12,
                 host_bw=20e9, fixed=4e-3, per_layer=1e-4, per_seq=1e-5, per_request=2e-4),
}


@dataclass
class CostModel:
    """Seconds per unit of each term in ``TERMS``; ``mape`` is the held-out error of the fit."""

    coefficients: dict[str, float]
    calibrated: bool = False
    source: str = ""
    mape: float | None = None
    block_bytes: int = 0           # bytes of one KV block at the calibrated block size
    extra: dict = field(default_factory=dict)
    tokens_knee: int = 0           # tokens up to which each costs ``KNEE`` more (0: none)

    # ---- the model ------------------------------------------------------------------------
    def iteration_seconds(self, shape: IterationShape | None = None, **terms: int) -> float:
        """Predicted seconds of one iteration, from a shape or its terms by keyword."""
        shape = shape or IterationShape(**terms)
        linear = sum(self.coefficients.get(t, 0.0) * v for t, v in zip(TERMS, shape.vector()))
        knee = self.coefficients.get(KNEE, 0.0) * min(shape.tokens, self.tokens_knee)
        return max(linear + knee, 1e-6)

    def prefill_seconds(self, tokens: int, cached: int = 0) -> float:
        """Marginal seconds to add a prefill of ``tokens`` after ``cached`` context to an
        iteration that runs anyway (no fixed costs): the price of a recompute."""
        c = self.coefficients
        return (c.get("tokens", 0) * tokens + c.get("prefill_chunks", 0)
                + c.get("prefill_attn", 0) * (tokens * tokens + 2 * tokens * cached)
                + c.get("prefill_cached", 0) * cached)

    def request_seconds(self, requests: int) -> float:
        """Seconds ``requests`` requests cost beyond their iterations' price (``REQUEST``)."""
        return requests * self.coefficients.get(REQUEST, 0.0)

    def swap_seconds(self, blocks: int) -> float:
        """Seconds to copy ``blocks`` out to host memory and back in."""
        return 2 * blocks * self.coefficients.get("swap_blocks", 0.0)

    def break_even_seconds(self, block_size: int, num_blocks: int, context_tokens: int = 0) -> float:
        """T*, the five-minute rule's break-even reuse interval for one KV block.

        Keeping a block costs its share of the device's memory, 1/num_blocks of the device, for
        as long as it is kept; recomputing it costs ``prefill_seconds(block_size, context)`` of
        the whole device. The two are equal after T* = recompute seconds × num_blocks: a block
        whose next use is expected sooner is worth keeping, one expected later is not.
        """
        return self.prefill_seconds(block_size, context_tokens) * num_blocks

    def decode_batch_target(self, max_batch_tokens: int, tolerance: float = 0.05) -> int:
        """The smallest decode batch whose token throughput is within ``tolerance`` of a batch
        as large as the token budget: larger batches gain almost nothing, and a smaller running
        set lets rows finish steadily (so a cancelled query keeps more of them)."""
        def rate(b: int) -> float:
            return b / self.iteration_seconds(tokens=b, decode_any=1, decode_seqs=b, logit_rows=b)
        best = rate(max_batch_tokens)
        lo, hi = 1, max_batch_tokens
        while lo < hi:                  # throughput rises with b: binary search
            mid = (lo + hi) // 2
            if rate(mid) >= (1 - tolerance) * best:
                hi = mid
            else:
                lo = mid + 1
        return lo

    # ---- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"coefficients": self.coefficients, "calibrated": self.calibrated,
                "source": self.source, "mape": self.mape, "block_bytes": self.block_bytes,
                "extra": self.extra, "tokens_knee": self.tokens_knee}

    @classmethod
    def from_dict(cls, d: dict) -> "CostModel":
        return cls(dict(d["coefficients"]), bool(d.get("calibrated", True)), d.get("source", ""),
                   d.get("mape"), int(d.get("block_bytes", 0)), dict(d.get("extra") or {}),
                   int(d.get("tokens_knee", 0)))

    def describe(self) -> str:
        """One line for EXPLAIN."""
        if not self.calibrated:
            return f"uncalibrated ({self.source})"
        err = f", held-out MAPE {100 * self.mape:.1f}%" if self.mape is not None else ""
        return f"calibrated ({self.source}{err})"


def default_cost_model(geom: ModelGeometry, device: str = "cpu", dtype: str | None = None,
                       block_size: int = 16) -> CostModel:
    """A first guess from the parameter count and device peak figures, marked uncalibrated."""
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    dtype = dtype or default_dtype(device)
    d = _DEVICE[kind]
    flops = d["flops"][dtype]
    attn = 2 * geom.layers * geom.heads * geom.head_dim / flops
    kv_tok = geom.kv_bytes_per_token(dtype)
    blk = bytes_per_block(geom, block_size, dtype)
    coef = {
        "tokens": 2 * geom.matmul_params / flops,
        "iteration": d["fixed"] + geom.layers * d["per_layer"],
        "decode_kv": kv_tok / d["mem_bw"] + 2 * attn,
        "decode_any": geom.layers * d["per_layer"] / 2,
        "decode_seqs": d["per_seq"],
        "prefill_attn": attn,
        "prefill_any": geom.layers * d["per_layer"] / 2,
        "prefill_chunks": 2 * d["per_seq"],
        "prefill_cached": kv_tok / d["mem_bw"],
        "logit_rows": 2 * geom.head_params / flops,
        "swap_blocks": blk / d["host_bw"],
        REQUEST: d["per_request"],
    }
    millions = (geom.matmul_params + geom.head_params) / 1e6
    return CostModel(coef, False, f"default for {millions:.1f}M parameters on {kind} {dtype}",
                     None, blk)


def fit(shapes: list[IterationShape], seconds: list[float], knee: int = 0) -> dict[str, float]:
    """Non-negative least squares on relative error (rows scaled by 1/seconds, so the fit
    minimises the error MAPE measures). Terms that never vary in the data are left at 0;
    a negative coefficient drops its term and the rest are refitted (a small active set).
    With ``knee``, the ``KNEE`` term min(tokens, knee) is fitted beside the others."""
    import numpy as np

    names = TERMS + (KNEE,)
    x = np.array([s.vector() + [float(min(s.tokens, knee))] for s in shapes], dtype=float)
    y = np.array(seconds, dtype=float)
    w = 1.0 / y
    active = [j for j in range(len(names)) if np.any(x[:, j] != 0)]
    while True:
        a = x[:, active] * w[:, None]
        sol, *_ = np.linalg.lstsq(a, np.ones_like(y), rcond=None)
        if not active or sol.min() >= 0:
            break
        active.pop(int(np.argmin(sol)))
    coef = {t: 0.0 for t in names}
    for j, v in zip(active, sol):
        coef[names[j]] = float(v)
    return coef


def fit_with_knee(shapes: list[IterationShape], seconds: list[float],
                  candidates: tuple[int, ...] = KNEE_CANDIDATES) -> tuple[dict[str, float], int]:
    """``fit`` at each candidate knee; the coefficients and knee with the least error on
    these same iterations (held-out ones must not choose it)."""
    best = None
    for knee in candidates:
        coef = fit(shapes, seconds, knee)
        err = mape(CostModel(coef, tokens_knee=knee), shapes, seconds)
        if best is None or err < best[0] - 1e-9:
            best = (err, coef, knee)
    return best[1], best[2]


def mape(model: CostModel, shapes: list[IterationShape], seconds: list[float]) -> float:
    """Mean absolute percentage error of ``model`` on measured iterations (0.05 = 5%)."""
    errs = [abs(model.iteration_seconds(s) - t) / t for s, t in zip(shapes, seconds)]
    return sum(errs) / len(errs)


def calibration_key(dtype: str, compiled: bool = False) -> str:
    """The catalog's dtype key of a calibration: ``compile=True`` runs another engine (fused
    norms and MLPs), so its calibration is kept apart, as ``bfloat16+compile``."""
    return f"{dtype}+compile" if compiled else dtype


def load_cost_model(catalog_con, model_path: str, device: str = "cpu",
                    dtype: str | None = None, block_size: int = 16,
                    compiled: bool = False) -> CostModel:
    """The calibrated model for (model, device, dtype) if the catalog has one, else the default.
    A compiled engine takes its own calibration, else the eager one (closer than the default).

    ``catalog_con`` is a DuckDB connection or cursor to the user's database, or None.
    """
    dtype = dtype or default_dtype(device)
    if catalog_con is not None:
        from catalog.cost_coefficients import CostCoefficients

        table = CostCoefficients(catalog_con, create=False)
        for key in dict.fromkeys([calibration_key(dtype, compiled), dtype]):
            stored = table.get(model_path, device, key)
            if stored is not None:
                return CostModel.from_dict(stored)
    return default_cost_model(read_geometry(model_path), device, dtype, block_size)
