"""Peer (a) of the query benchmark: plain DuckDB with one arrow UDF per LLM call, calling HF.

This is what a user writes without InferSQL: DuckDB hands each UDF chunks of rows in scan
order, and the UDF renders each row's prompt and calls Hugging Face ``model.generate`` in
left-padded batches of 16, with no deduplication, result cache or prefix cache. To compare
answers row for row it must ask exactly what InferSQL asks, so it reuses InferSQL's own pieces
instead of copies: the statement rewrite (``optimizer.plan_statement``: which call sites exist,
their ``LLMCall``), the prompt text (``LLMCall.render``), the token ids (``encode_prompt``).
For LLM_FILTER/LLM_CLASSIFY it computes the engine's constrained answer
(``executor/engine/choices.py``): the label with the highest total log-probability, ties to the
earlier label. The prompt is run once; a multi-token label continues from the prompt's KV cache,
which is cropped back afterwards, so no prompt is computed twice.

Every UDF invocation is recorded as a stage (call, prompts), so the vLLM peer can replay exactly
the same LLM work in the same order.

Its model loads and runs on the engine's compute thread (``executor/engine/compute_thread.py``),
as InferSQL's does: torch work on DuckDB's or the main thread would give OpenMP a second team
of workers, on 2 cores both teams then sleep between operators, and every system measured
after it in the same process would be slowed by the peer's mere presence.
"""
from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass

import pyarrow as pa
import torch

from executor.engine.compute_thread import on_compute_thread
from executor.engine.requests_prep import encode_prompt
from executor.llm_call import LLMCall
from optimizer import plan_statement

_SQL_TYPE = {"llm": "VARCHAR", "filter": "BOOLEAN", "classify": "VARCHAR"}
_ARROW_TYPE = {"llm": pa.string(), "filter": pa.bool_(), "classify": pa.string()}


@dataclass
class Stage:
    """One UDF invocation: the call and the prompts of its chunk, in row order."""

    call: LLMCall
    prompts: list[str]


class HFUdfPeer:
    def __init__(self, path: str, dtype: str = "float32", batch_size: int = 16) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = path                   # a folder (bench/common.py peer_folder for a GGUF)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = on_compute_thread(
            lambda: AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval())
        gen = self.model.generation_config
        self.pad = gen.pad_token_id if gen.pad_token_id is not None else self.tokenizer.pad_token_id
        self.batch_size = batch_size
        self.stages: list[Stage] = []
        self._lock = threading.Lock()      # DuckDB may call UDFs from several threads

    def warm_up(self) -> None:
        """One small generate, so the first timed batch pays no one-time setup."""
        on_compute_thread(self._generate, [[11, 12, 13, 14] * 8, [21, 22, 23] * 9], 2)

    # ---- SQL --------------------------------------------------------------------------------
    def execute(self, con, sql: str) -> list[tuple]:
        """Run ``sql`` on a plain DuckDB connection with every LLM call as an HF-backed UDF."""
        planned = plan_statement(sql)
        for name, call, arity in planned.udfs:
            con.create_function(name, self._udf(call, arity), ["VARCHAR"] * arity,
                                _SQL_TYPE[call.kind], type="arrow", null_handling="special")
        try:
            return con.execute(planned.sql).fetchall()
        finally:
            for name, _, _ in planned.udfs:
                con.remove_function(name)

    def _udf(self, call: LLMCall, arity: int):
        if call.temperature != 0:
            raise ValueError(f"{call.sql}: the HF peer decodes greedily only")

        def evaluate(*arrays):
            columns = [a.to_pylist() for a in arrays]
            prompts = [call.render(list(values)) for values in zip(*columns)]
            with self._lock:
                self.stages.append(Stage(call, [p for p in prompts if p is not None]))
                answers = iter(self.answer(call, [p for p in prompts if p is not None]))
            return pa.array([None if p is None else call.decode(next(answers)) for p in prompts],
                            type=_ARROW_TYPE[call.kind])

        # DuckDB counts the function's declared parameters; *arrays would count as one.
        evaluate.__signature__ = inspect.Signature(
            [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)])
        return evaluate

    # ---- model ------------------------------------------------------------------------------
    def answer(self, call: LLMCall, prompts: list[str]) -> list[str]:
        """The call's answer text for each prompt, batch after batch."""
        return on_compute_thread(self._answer, call, prompts)

    def _answer(self, call: LLMCall, prompts: list[str]) -> list[str]:
        out: list[str] = []
        for i in range(0, len(prompts), self.batch_size):
            ids = [encode_prompt(self.tokenizer, p, chat=True)
                   for p in prompts[i:i + self.batch_size]]
            if call.choices is None:
                out += self._generate(ids, call.max_tokens)
            else:
                out += [call.choices[k] for k in self._choose(ids, call.choices)]
        return out

    def _padded(self, ids: list[list[int]]):
        width = max(len(p) for p in ids)
        tokens = torch.tensor([[self.pad] * (width - len(p)) + p for p in ids])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in ids])
        return tokens, mask, width

    @torch.no_grad()
    def _generate(self, ids: list[list[int]], max_tokens: int) -> list[str]:
        tokens, mask, width = self._padded(ids)
        out = self.model.generate(tokens, attention_mask=mask, max_new_tokens=max_tokens,
                                  do_sample=False, pad_token_id=self.pad)
        return [self.tokenizer.decode(row[width:], skip_special_tokens=True) for row in out]

    @torch.no_grad()
    def _choose(self, ids: list[list[int]], choices: list[str]) -> list[int]:
        """Index of the most likely choice per prompt: log p(c_0 | prompt) from the prompt's
        last logits, plus log p(c_1..c_k | prompt, c_0..) from a continuation over the cache."""
        labels = [self.tokenizer.encode(c, add_special_tokens=False) for c in choices]
        tokens, mask, width = self._padded(ids)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        first = self.model(tokens, attention_mask=mask, position_ids=positions, use_cache=True)
        cache = first.cache
        lead = torch.log_softmax(first.logits[:, -1].float(), dim=-1)
        totals = torch.stack([lead[:, c[0]] for c in labels], dim=1)
        for j, c in enumerate(labels):
            if len(c) == 1:
                continue
            rest = torch.tensor([c[:-1]] * len(ids))
            k = rest.shape[1]
            more = self.model(rest, attention_mask=torch.cat([mask, torch.ones_like(rest)], 1),
                              position_ids=positions[:, -1:] + torch.arange(1, k + 1),
                              cache=cache, use_cache=True)
            logprobs = torch.log_softmax(more.logits.float(), dim=-1)
            totals[:, j] += logprobs[:, torch.arange(k), torch.tensor(c[1:])].sum(-1)
            cache.crop(-k)                 # back to the prompt alone
        # max over (total, -index): ties go to the earlier choice, as the engine's pick does
        return [max(range(len(labels)), key=lambda j: (row[j], -j)) for row in totals.tolist()]
