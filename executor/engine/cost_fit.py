"""Fitting the cost model's coefficients to measured engine iterations: the work behind
``infersql calibrate`` (which stores the result in the catalog).

Why real ``generate`` calls rather than bare forward passes: the makespan the simulator must
predict includes everything an iteration does (scheduling, batch building, sampling), so the
fit is made on whole iterations as the engine runs them (``Engine.trace``). The workloads are
chosen to vary every term independently: decode batches of 1-128 sequences over short and long
contexts, prefill chunks of 16-2048 tokens after 0-1500 cached tokens, iterations of dozens of
short prompts (a filter's rows, with and without a shared instruction), and mixes of both.
A quarter of the iterations, chosen at random, is held out and the error is reported on them.
The per-request term is fitted apart, on whole ``generate`` calls of text prompts with yes/no
choices, as a filter sends them: what the calls take beyond the model's price of their
iterations (``request_seconds``), so EXPLAIN prices a whole filter, not its forward passes.

On a machine shared with other busy processes, wall time per iteration swings by 2x and more;
``clock=time.process_time`` with one torch thread measures the work instead (CPU seconds),
which is what ``infersql calibrate --clock cpu`` does.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

from .compute_thread import on_compute_thread
from .cost_model import REQUEST, CostModel, IterationShape, fit_with_knee, mape
from .request import Request
from .requests_prep import encode_prompts
from .timeline import IterationRecord


@dataclass
class Calibration:
    model: CostModel
    train: list[IterationRecord]
    held_out: list[IterationRecord]
    train_mape: float
    held_out_mape: float


def _prompts(rng: random.Random, vocab: int, n: int, lo: int, hi: int,
             shared: int = 0) -> list[list[int]]:
    prefix = [rng.randrange(1, vocab) for _ in range(shared)]
    return [prefix + [rng.randrange(1, vocab) for _ in range(rng.randint(lo, hi))]
            for _ in range(n)]


CHOICES = 0      # a workload's max_tokens of 0: score the choices yes/no instead, as filters do


def workloads(vocab: int, max_len: int, seed: int = 0, scale: float = 1.0):
    """(budget, prompts, max_tokens) triples that together vary every term of the model."""
    rng = random.Random(seed)
    cap = lambda n: max(8, min(n, max_len - 40))    # noqa: E731  keep prompts inside the context
    k = lambda n: max(1, int(n * scale))           # noqa: E731
    out = []
    for batch in (1, 4, 16, 48, 128):                       # decode batches, short context
        out.append((2048, _prompts(rng, vocab, k(batch), 8, cap(64)), 12))
    for batch in (2, 8, 24):                                # ... and long context
        out.append((2048, _prompts(rng, vocab, k(batch), cap(300), cap(900)), 8))
    for budget in (48, 160, 512, 2048):                     # chunked prefill, varied chunks
        out.append((budget, _prompts(rng, vocab, k(3), cap(100), cap(1200)), 2))
    for shared in (256, 1024):                              # prefill after a cached prefix
        out.append((384, _prompts(rng, vocab, k(8), 16, cap(200), shared=cap(shared)), 3))
    for n, shared in ((48, 0), (96, 48)):    # many short rows per iteration, scored as a
        out.append((2048, _prompts(rng, vocab, k(n), 20, cap(70), shared=shared), CHOICES))  # filter
    out.append((1024, _prompts(rng, vocab, k(24), 16, cap(300)), 24))   # decodes + prefills
    out.append((2048, _prompts(rng, vocab, k(32), 100, cap(400), shared=cap(300)), 6))
    # a shared prefix plus its suffix must fit too (a small model's context is short)
    return [(budget, [p[:max_len - 40] for p in prompts], new) for budget, prompts, new in out]


def measure(engine, seed: int = 0, scale: float = 1.0, repeats: int = 3,
            clock=time.perf_counter) -> list[IterationRecord]:
    """Run the calibration workloads on ``engine``; its per-iteration records, each forward
    pass timed ``repeats`` times and the fastest kept (other processes' bursts are noise)."""
    vocab = engine.runner.vocab_size
    warm = Request(prompt_ids=[1, 2, 3, 4] * 8, max_tokens=4, ignore_eos=True)
    engine.generate([warm, warm])
    records: list[IterationRecord] = []
    saved_budget = engine.scheduler.max_batch_tokens
    engine.trace_repeats, engine.trace_clock = repeats, clock
    try:
        for budget, prompts, max_tokens in workloads(vocab, engine.max_model_len, seed, scale):
            engine.scheduler.max_batch_tokens = budget
            engine.trace = records
            engine.generate([Request(prompt_ids=p, choices=["yes", "no"]) if max_tokens == CHOICES
                             else Request(prompt_ids=p, max_tokens=max_tokens, ignore_eos=True)
                             for p in prompts])
            engine.trace = None
    finally:
        engine.trace = None
        engine.trace_repeats, engine.trace_clock = 1, time.perf_counter
        engine.scheduler.max_batch_tokens = saved_budget
    return records


def swap_seconds_per_block(engine, blocks: int = 32, repeats: int = 5) -> float:
    """One-way host copy time of one block, measured on the engine's own pool."""
    kv = engine.runner.kv
    ids = list(range(min(blocks, kv.num_blocks)))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        data = kv.swap_out(ids)
        kv.swap_in(data, ids)
        best = min(best, time.perf_counter() - t)
    return best / (2 * len(ids))


def whole_calls(engine, n: int = 64, seed: int = 0, repeats: int = 3,
                clock=time.perf_counter) -> list[tuple[float, list[IterationShape]]]:
    """``repeats`` whole ``generate`` calls of ``n`` filter-shaped requests (chat prompts of
    a shared instruction and 40-120 words, scored yes/no, tokenized beforehand as a query's
    are): each call's seconds and the shapes of its iterations. Each call uses new prompts,
    so none is served from the previous one's cache, and its forward passes run once each,
    as in a query."""
    rng = random.Random(seed)
    words = "the film was good bad long short plot actor scene music story ending".split()
    calls = []
    for r in range(repeats):
        texts = [f"Is the review positive?\nreview: {r} {i} " +
                 " ".join(rng.choice(words) for _ in range(rng.randint(40, 120))) + "\n"
                 for i in range(n)]
        reqs = [Request(prompt_ids=ids, choices=["yes", "no"])
                for ids in encode_prompts(engine.tokenizer, texts, chat=True)]
        records: list[IterationRecord] = []
        engine.trace, engine.trace_clock = records, clock
        try:
            t = clock()
            engine.generate(reqs)
            total = clock() - t
        finally:
            engine.trace, engine.trace_clock = None, time.perf_counter
        calls.append((total, [rec.shape for rec in records]))
    return calls


def request_seconds(model: CostModel, calls: list[tuple[float, list[IterationShape]]],
                    n: int) -> float:
    """The per-request term, fitted on whole ``generate`` calls: what each call took beyond
    ``model``'s price of its iterations, over its ``n`` requests (the fastest call counts).
    It holds the host work outside the iterations (admission, scoring, outputs), and also
    what the iteration terms miss in a call like a filter's: they are fitted on forward
    passes timed at their fastest of ``repeats`` back-to-back runs, and a query runs each
    pass once, with colder caches (on the built-in model, a filter's iterations took
    1.2-1.4x their fastest repeat, in CPU seconds)."""
    best = min((total - sum(model.iteration_seconds(s) for s in shapes)) / n
               for total, shapes in calls)
    return max(best, 0.0)


def calibrate(engine, seed: int = 0, scale: float = 1.0, source: str = "",
              repeats: int = 3, clock=time.perf_counter) -> Calibration:
    """Measure, fit on three quarters, report the error on the held-out quarter, and refit
    on everything for the stored model."""
    records = measure(engine, seed, scale, repeats, clock)
    rng = random.Random(seed + 1)
    order = list(range(len(records)))
    rng.shuffle(order)
    cut = len(order) // 4
    held = [records[i] for i in sorted(order[:cut])]
    train = [records[i] for i in sorted(order[cut:])]
    block_bytes = engine.runner.kv.bytes_per_block
    swap = on_compute_thread(swap_seconds_per_block, engine)     # where the engine's copies run
    n = max(8, int(64 * scale))
    calls = whole_calls(engine, n, seed, repeats, clock)

    def model_from(recs: list[IterationRecord], err: float | None) -> CostModel:
        coef, knee = fit_with_knee([r.shape for r in recs], [r.seconds for r in recs])
        coef["swap_blocks"] = swap
        model = CostModel(coef, True, source, err, block_bytes, tokens_knee=knee)
        model.coefficients[REQUEST] = request_seconds(model, calls, n)
        return model

    trial = model_from(train, None)
    shapes = lambda rs: [r.shape for r in rs]       # noqa: E731
    secs = lambda rs: [r.seconds for r in rs]       # noqa: E731
    train_err = mape(trial, shapes(train), secs(train))
    held_err = mape(trial, shapes(held), secs(held))
    final = model_from(records, held_err)
    final.extra = {"iterations": len(records), "held_out": len(held), "train_mape": train_err}
    return Calibration(final, train, held, train_err, held_err)

