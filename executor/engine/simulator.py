"""The engine without the model: its own scheduler and block manager, priced by the cost model.

Why: the optimizer estimates a plan's seconds and tokens (EXPLAIN must be fast, so no weights
are loaded and torch is not imported), and the policy benchmarks compare policies at 10,000+
requests, which a real run cannot do on a CPU in minutes. The simulator builds the scheduler
with ``make_scheduler`` exactly as the engine does, sizes the pool from config.json, the byte
budget and the dtype exactly as ``KVCache`` does, and counts with the engine's ``EngineStats``
methods; only the forward pass is replaced, by ``CostModel.iteration_seconds``.

Generated tokens are stand-ins: request i's k-th output token is a negative id (never a prompt
token) derived from its prompt and k, so identical prompts produce identical outputs and share
their decoded blocks, as they do under greedy decoding. Every request decodes exactly its
``output_len`` tokens (no EOS).

Requests with ``choices`` (LLM_FILTER yes/no, LLM_CLASSIFY; their choices' token ids) run as
the engine runs them (``choices.py``): a scoring lead prefills the prompt and reads the first
token of every choice from its last position, then each multi-token choice gets a child that
re-reads the prompt from the cache and computes the label's tokens. Without ``choices``, such a
request can be given ``output_len=1``: the lead alone is the same work as a prefill plus one
sampled token.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from . import choices as choice_scoring
from .config import EngineConfig
from .cost_model import CostModel, IterationShape, default_cost_model
from .errors import CacheTooSmallError, InvalidRequestError
from .geometry import bytes_per_block, default_dtype, num_blocks, read_geometry
from .scheduler import make_scheduler
from .sequence import SamplingParams, Sequence
from .stats import EngineStats
from .timeline import IterationRecord


@dataclass
class SimResult:
    seconds: float                      # makespan: the sum of predicted iteration times
    stats: EngineStats
    timeline: list[IterationRecord] = field(default_factory=list)
    num_blocks: int = 0
    cost_model: CostModel | None = None
    finish_seconds: list[float] = field(default_factory=list)   # per request, in order


def _stand_in(seq: Sequence) -> int:
    tail = tuple(seq.token_ids[max(0, seq.prompt_len - 8):seq.prompt_len])
    return -1 - (hash((tail, seq.prompt_len, seq.num_tokens)) & 0x3FFFFFFF)


def _first_sequence(i: int, prompt: list[int], output_len: int,
                    choice_ids: list[list[int]] | None) -> Sequence:
    if choice_ids is not None:
        if not choice_ids or not all(choice_ids):
            raise InvalidRequestError(f"request {i}: choices must be non-empty token id lists")
        return choice_scoring.lead(i, i, (0, i), prompt, choice_ids)
    return Sequence(i, i, (0, i), list(prompt), len(prompt), SamplingParams(output_len))


def _advance(seq: Sequence, stats: EngineStats) -> bool:
    """``seq`` computed all its tokens: a scoring sequence is done; any other samples a stand-in
    token, and is done at its output length."""
    if seq.is_scoring:
        return True
    seq.token_ids.append(_stand_in(seq))
    stats.decoded_tokens += 1
    return seq.num_tokens - seq.prompt_len >= seq.params.max_tokens


def simulate(config: EngineConfig, prompts: list[list[int]], output_lens: list[int],
             cost_model: CostModel | None = None,
             future: list[list[int]] | None = None,
             choices: list[list[list[int]] | None] | None = None) -> SimResult:
    """Run ``prompts`` (token ids) with ``output_lens`` new tokens each through the engine's
    scheduler under ``config``; ``future`` holds prompts of later calls, for an eviction
    policy that ``uses_future`` (``belady``). ``choices``, per request, holds its choices'
    token ids (or None): such a request scores them instead of decoding ``output_len``."""
    if len(prompts) != len(output_lens) or (choices is not None and len(choices) != len(prompts)):
        raise InvalidRequestError(f"simulate: {len(prompts)} prompts but {len(output_lens)} "
                                  f"output lengths and {len(choices or prompts)} choice lists; "
                                  "give one of each per prompt")
    choices = choices or [None] * len(prompts)
    geom = read_geometry(config.model)
    dtype = config.dtype or default_dtype(config.device)
    pool = num_blocks(geom, config.kv_cache_bytes, config.block_size, dtype)
    block_bytes = bytes_per_block(geom, config.block_size, dtype)
    if pool < 1:
        raise CacheTooSmallError(f"kv_cache_bytes={config.kv_cache_bytes} holds no block of "
                                 f"{block_bytes} bytes for this model; raise kv_cache_bytes")
    cost_model = cost_model or default_cost_model(geom, config.device, dtype, config.block_size)
    sched = make_scheduler(config, pool, block_bytes, cost_model)
    blocks, stats = sched.blocks, EngineStats()
    if blocks.eviction.uses_future:
        blocks.eviction.set_future([list(p) for p in future or ()])
    for i, (prompt, n) in enumerate(zip(prompts, output_lens)):
        if not prompt or n < 1:
            raise InvalidRequestError(f"request {i}: needs a non-empty prompt and output_len >= 1")
        need = -(-(len(prompt) + n) // config.block_size)
        if need > pool:
            raise CacheTooSmallError(f"request {i}: needs {need} KV blocks but the cache holds "
                                     f"{pool}; raise kv_cache_bytes")
        sched.add(_first_sequence(i, prompt, n, choices[i]))
        stats.requests += 1
        stats.prompt_tokens += len(prompt)
    clock, timeline, next_id = 0.0, [], itertools.count(len(prompts))
    finish = [0.0] * len(prompts)
    while sched.has_work():
        blocks.clock = clock
        step = sched.schedule()
        stats.count_step(step)
        shape = IterationShape.of(step.chunks, step.swap_blocks)
        seconds = cost_model.iteration_seconds(shape)
        timeline.append(IterationRecord(clock, seconds, shape))
        clock += seconds
        blocks.end_iteration()
        for chunk in step.chunks:
            seq = chunk.seq
            stats.count_chunk(seq, chunk.start, chunk.end)
            seq.num_computed = chunk.end
            if chunk.end == seq.num_tokens and _advance(seq, stats):
                sched.finish(seq)
                finish[seq.request_index] = clock
                if choice_scoring.is_lead(seq):
                    ids = choices[seq.request_index]
                    for kid in choice_scoring.children(next_id, seq, ids).values():
                        sched.add(kid)
    stats.peak_blocks = blocks.peak_blocks
    stats.evicted_blocks = blocks.evicted_blocks
    stats.wall_seconds = clock
    return SimResult(clock, stats, timeline, pool, cost_model, finish)
