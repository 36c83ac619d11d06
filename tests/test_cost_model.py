"""The cost model: its terms, the least-squares fit, T*, the decode batch knee, the catalog."""
from __future__ import annotations

import random

import duckdb

from catalog.cost_coefficients import CostCoefficients
from executor.engine.cost_model import (KNEE, REQUEST, TERMS, CostModel, IterationShape, default_cost_model,
                                        fit, fit_with_knee, load_cost_model, mape)
from executor.engine.geometry import read_geometry
from executor.engine.sequence import Chunk, SamplingParams, Sequence


def _seq(n: int, prompt: int) -> Sequence:
    return Sequence(0, 0, (0, 0), list(range(1, n + 1)), prompt, SamplingParams(4))


def test_shape_counts_the_designs_terms():
    chunks = [Chunk(_seq(30, 20), 10, 30),      # prefill of 20 after 10 cached (and samples)
              Chunk(_seq(41, 20), 40, 41),      # decode over 41 keys
              Chunk(_seq(8, 8), 0, 5)]          # first chunk of a prompt: no logits yet
    s = IterationShape.of(chunks, swap_blocks=3)
    assert (s.tokens, s.decode_seqs, s.decode_kv, s.prefill_chunks) == (26, 1, 41, 2)
    assert s.prefill_attn == (20 * 20 + 2 * 20 * 10) + 5 * 5
    assert (s.prefill_cached, s.logit_rows, s.swap_blocks) == (10, 2, 3)
    assert s.decode_any == s.prefill_any == s.iteration == 1


def _random_shapes(rng: random.Random, n: int) -> list[IterationShape]:
    shapes = []
    for _ in range(n):
        d = rng.choice([0, rng.randint(1, 64)])
        chunks = [] if d and rng.random() < 0.5 else [(rng.randint(2, 512), rng.randint(0, 900))
                                                      for _ in range(rng.randint(1, 4))]
        kv = sum(rng.randint(10, 800) for _ in range(d))
        shapes.append(IterationShape(
            tokens=d + sum(c for c, _ in chunks), decode_kv=kv, decode_any=int(d > 0),
            decode_seqs=d, prefill_attn=sum(c * c + 2 * c * m for c, m in chunks),
            prefill_any=int(bool(chunks)), prefill_chunks=len(chunks),
            prefill_cached=sum(m for _, m in chunks), logit_rows=d + len(chunks)))
    return shapes


def test_fit_recovers_known_coefficients_from_noisy_times():
    rng = random.Random(0)
    truth = CostModel({"tokens": 5e-5, "iteration": 2e-3, "decode_kv": 3e-7, "decode_seqs": 2e-5,
                       "prefill_attn": 2e-8, "prefill_chunks": 1e-4, "logit_rows": 4e-6})
    shapes = _random_shapes(rng, 400)
    times = [truth.iteration_seconds(s) * rng.uniform(0.97, 1.03) for s in shapes]
    fitted = CostModel(fit(shapes[:300], times[:300]), calibrated=True)
    assert mape(fitted, shapes[300:], times[300:]) < 0.03
    for term in ("tokens", "iteration", "prefill_attn"):
        assert abs(fitted.coefficients[term] - truth.coefficients[term]) < 0.15 * truth.coefficients[term]
    assert all(v >= 0 for v in fitted.coefficients.values())


def test_fit_finds_the_small_batch_knee():
    """Times with a premium on an iteration's first 8 tokens (BLAS packing weights for a
    blocked product): no linear fit matches them; the knee fit finds 8 and the premium."""
    rng = random.Random(1)
    truth = CostModel({"tokens": 5e-5, "iteration": 2e-3, "decode_kv": 3e-7, "decode_seqs": 2e-5,
                       "prefill_attn": 2e-8, "prefill_chunks": 1e-4, "logit_rows": 4e-6,
                       KNEE: 4e-4}, tokens_knee=8)
    shapes = _random_shapes(rng, 400)
    times = [truth.iteration_seconds(s) * rng.uniform(0.99, 1.01) for s in shapes]
    coef, knee = fit_with_knee(shapes[:300], times[:300])
    fitted = CostModel(coef, True, tokens_knee=knee)
    assert knee == 8 and abs(coef[KNEE] - 4e-4) < 0.1 * 4e-4
    assert mape(fitted, shapes[300:], times[300:]) < 0.02
    assert mape(CostModel(fit(shapes[:300], times[:300]), True), shapes[300:], times[300:]) > 0.03
    assert CostModel.from_dict(fitted.to_dict()).iteration_seconds(shapes[0]) == \
        fitted.iteration_seconds(shapes[0])


def test_default_model_scales_with_parameters_and_is_uncalibrated(model_factory):
    tiny = default_cost_model(read_geometry(model_factory("qwen2", "tiny")))
    small = default_cost_model(read_geometry(model_factory("qwen2", "small")))
    assert not tiny.calibrated and "uncalibrated" in tiny.describe()
    assert small.coefficients["tokens"] > 10 * tiny.coefficients["tokens"]
    big = IterationShape(tokens=512, prefill_any=1, prefill_chunks=1, prefill_attn=512 * 512)
    assert small.iteration_seconds(big) > tiny.iteration_seconds(big) > 0
    assert set(tiny.coefficients) == set(TERMS) | {REQUEST}


def test_break_even_time_is_recompute_time_times_pool_blocks():
    cm = CostModel({"tokens": 1e-4, "prefill_attn": 1e-8, "prefill_chunks": 1e-5,
                    "prefill_cached": 1e-7})
    t = cm.break_even_seconds(16, 1000)
    assert abs(t - 1000 * (16 * 1e-4 + 1e-5 + 256 * 1e-8)) < 1e-9
    assert cm.break_even_seconds(16, 1000, context_tokens=800) > t    # deep blocks cost more
    assert cm.break_even_seconds(16, 2000) == 2 * t


def test_decode_batch_knee():
    cm = CostModel({"iteration": 1e-2, "tokens": 1e-4})   # rate(b) = b / (0.01 + 1e-4 b)
    b = cm.decode_batch_target(2048, tolerance=0.05)
    rate = lambda n: n / (1e-2 + 1e-4 * n)                # noqa: E731
    assert rate(b) >= 0.95 * rate(2048) > rate(b - 1)
    assert cm.decode_batch_target(2048, tolerance=0.0) == 2048


def test_catalog_round_trip_and_load(tiny_model):
    con = duckdb.connect()
    default = load_cost_model(con, tiny_model, "cpu")
    assert not default.calibrated
    fitted = CostModel({**default.coefficients, "tokens": 1.0}, True, "cpu float32", 0.04)
    CostCoefficients(con).put(tiny_model, "cpu", "float32", fitted.to_dict(), 123)
    loaded = load_cost_model(con, tiny_model, "cpu")
    assert loaded.calibrated and loaded.coefficients == fitted.coefficients
    assert loaded.mape == 0.04 and "4.0%" in loaded.describe()
    assert not load_cost_model(con, tiny_model, "cpu", "bfloat16").calibrated
    assert not load_cost_model(None, tiny_model, "cpu").calibrated
    assert con.execute("SELECT count(*) FROM infersql_catalog.cost_coefficients").fetchone()[0] == 1


def test_load_reads_a_read_only_database_without_the_table(tiny_model, tmp_path):
    path = str(tmp_path / "ro.duckdb")
    duckdb.connect(path).close()
    con = duckdb.connect(path, read_only=True)
    assert not load_cost_model(con, tiny_model, "cpu").calibrated
