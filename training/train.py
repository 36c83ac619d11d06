"""Train the built-in model: ``python -m training.train --data DIR --out DIR`` (from the repo root).

``--data`` is the folder of the LLM-SQL benchmark tables (``movies.csv``, ``products.csv``,
``beer.csv``; see ``data.py``); ``--out`` defaults to the package's own model folder.

Why this shape: a Llama (transformers' own class) small enough to train in under 30 minutes on
two CPU cores and to load in well under a second, trained with plain torch on the synthetic
instruction set of ``tasks.py``. The loss is mostly the answer's (the label, or the span and its
EOS), so every step teaches what the SQL functions ask for; ``loss_fn`` says why each example
weighs the same and why the prompt is trained on too. The run is reproducible at a given
``--threads``: one seed fixes the examples, the tokenizer, the initial weights and the batch
order.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import shutil
import time
from pathlib import Path

from infersql.builtin_model import MODEL_DIR

from . import data, tasks
from . import lexicon as lx
from .evaluate import TRAINING_ARGS
from .tokenizer import train_tokenizer

log = logging.getLogger("training.train")

CHECKPOINT_EVERY = 2500     # steps between the held-out check and a saved folder (each ~4 s)
CHECK_PER_FAMILY = 100      # held-out examples per family in the in-run check
DIMS = dict(hidden_size=192, intermediate_size=384, num_hidden_layers=4, num_attention_heads=6,
            num_key_value_heads=3, max_position_embeddings=1024)


def draw(rng: random.Random, data_dir: str | None, n: int, copy_first: float):
    """(training examples, the in-run check's held-out examples by family), drawn from ``rng``
    in this order. The batch order is drawn next from the same generator, so the weights rest
    on all of it: ``fingerprint.py`` hashes what this returns and the generator's state after."""
    train_pool, held_pool = data.pools(data_dir)
    examples = tasks.training_examples(rng, train_pool, n, copy_first)
    check = {fam: [tasks.sample(rng, held_pool, fam) for _ in range(CHECK_PER_FAMILY)]
             for fam in tasks.FAMILY_WEIGHTS}
    return examples, check


def vocabulary_texts(examples: list[tasks.Example]):
    """What the tokenizer is fitted to: every training prompt and answer, with the lexicon's
    nouns (and their plurals) taken out. Why: fitted to the prompts as they are, it made every
    training noun one token and cut 67 of the 72 held-out nouns into pieces (``dog`` -> ``Ġd
    og``), so the model learned "does the text mention X" as a match of one token and could not
    match a held-out noun's pieces (yes-recall 45-52% in run F6). Without the nouns, training
    and held-out nouns alike are pieces (2.6 and 2.7 on average) and the match the model learns
    is the one held-out nouns need. Making every noun one token instead (run F7) left held-out
    nouns with embeddings no example trains: they were found 11-17% of the time. The notes' rare
    adjectives and verbs are taken out too, so that nouns are not the only words in pieces."""
    unseen = {w for n in lx.NOUNS for w in (n, n + "s", n + "es")} | set(lx.NOTE_ADJECTIVES + lx.NOTE_VERBS)
    drop = lambda m: "" if m.group().lower() in unseen else m.group()    # noqa: E731
    for e in examples:
        yield re.sub(r"[A-Za-z]+", drop, e.prompt + e.answer)


def encode(tokenizer, examples: list[tasks.Example]) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, answer ids + EOS) of each example, tokenized exactly as the engine tokenizes
    them: the prompt through the chat template, the answer on its own (as choices are encoded)."""
    from executor.engine.requests_prep import encode_prompts

    prompts = encode_prompts(tokenizer, [e.prompt for e in examples], chat=True)
    answers = tokenizer([e.answer for e in examples], add_special_tokens=False).input_ids
    return [(p, a + [tokenizer.eos_token_id]) for p, a in zip(prompts, answers)]


def batches(encoded, indices: list[int], max_tokens: int, rng: random.Random, window: int = 512):
    """Lists of the examples ``indices``, each padded batch at most ``max_tokens`` long.

    Examples are shuffled, then sorted by length only within windows of ``window``: batches
    waste little padding yet still mix tasks (a batch of one task pulls the model its way)."""
    order = list(indices)
    rng.shuffle(order)
    out = []
    for w in range(0, len(order), window):
        part = sorted(order[w:w + window], key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
        cur, longest = [], 0
        for i in part:
            n = len(encoded[i][0]) + len(encoded[i][1])
            if cur and max(longest, n) * (len(cur) + 1) > max_tokens:
                out.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, n)
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(items, pad_id: int):
    import torch

    width = max(len(p) + len(a) for p, a in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), -100, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, (p, a) in enumerate(items):
        seq = p + a
        ids[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = 1
        labels[row, len(p):len(seq)] = torch.tensor(a)
    return ids, mask, labels


def loss_fn(model, ids, mask, labels, prompt_weight: float, per_example: bool = True):
    """Cross-entropy on the answer tokens, plus ``prompt_weight`` times the plain language
    modelling loss on the prompt tokens. The answers alone are two or three tokens per example,
    too sparse a signal for a model trained from scratch; the prompt loss teaches it the texts
    (and to copy what it has seen), which the answers then build on.

    ``per_example``: every example's answer weighs the same, its tokens sharing the weight.
    Averaged over tokens instead, a yes/no decision is one token beside a repeated field's ten:
    the decisions of LLM_FILTER got a tenth of the answer gradient, and the comparisons behind
    "mentions X" a fortieth.

    The attention mask changes no loss (rows are padded on the right, so no real token sees a
    pad) but it does change the gradients' last bits, so it stays: dropping it would make this
    run another draw, not the shipped weights again."""
    import torch.nn.functional as F

    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    gold = labels[:, 1:]
    answer = gold != -100
    token_loss = F.cross_entropy(model.lm_head(hidden[answer]).float(), gold[answer],
                                 reduction="none")
    if per_example:
        tokens = answer.sum(1, keepdim=True).expand_as(answer)[answer]
        loss = (token_loss / tokens).sum() / answer.any(1).sum()
    else:
        loss = token_loss.mean()
    if prompt_weight:
        prompt = (~answer) & (mask[:, 1:] == 1)
        loss = loss + prompt_weight * F.cross_entropy(model.lm_head(hidden[prompt]).float(),
                                                      ids[:, 1:][prompt])
    return loss


def quick_accuracy(model, items, pad_id: int) -> float:
    """Share of examples whose every answer token is the argmax: greedy would produce it."""
    import torch

    right = 0
    with torch.no_grad():
        for k in range(0, len(items), 64):
            ids, _, labels = collate(items[k:k + 64], pad_id)
            pred = model(input_ids=ids).logits[:, :-1].argmax(-1)     # right-padded: no mask needed
            gold = labels[:, 1:]
            right += int(((pred == gold) | (gold == -100)).all(-1).sum())
    return right / len(items)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=data.data_folder,
                    help="folder with movies.csv, products.csv, beer.csv (optional)")
    ap.add_argument("--out", default=str(MODEL_DIR), help="where to write the model folder")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--examples", type=int, default=240_000)
    ap.add_argument("--copy-first", type=float, default=0.2,
                    help="share of examples, trained first, drawn with tasks.COPY_FIRST_WEIGHTS")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch-tokens", type=int, default=512)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--prompt-loss", type=float, default=0.5, help="weight of the prompt LM loss")
    ap.add_argument("--answer-loss", choices=["token", "example"], default="example",
                    help="average the answer loss over answer tokens, or over examples")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, get_cosine_with_min_lr_schedule_with_warmup

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    wall, cpu = time.time(), time.process_time()
    examples, check = draw(rng, args.data, args.examples, args.copy_first)
    tokenizer = train_tokenizer(vocabulary_texts(examples), args.vocab)
    encoded = encode(tokenizer, examples)
    held = {fam: encode(tokenizer, items) for fam, items in check.items()}
    log.info("%d examples, %.1f prompt tokens on average, vocab %d", len(encoded),
             sum(len(p) for p, _ in encoded) / len(encoded), len(tokenizer))

    eos = tokenizer.eos_token_id
    config = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
                         tie_word_embeddings=True, **DIMS)
    model = LlamaForCausalLM(config)
    log.info("%.2fM parameters", sum(p.numel() for p in model.parameters()) / 1e6)
    first = int(len(encoded) * args.copy_first)       # the copy-first part, trained first
    plan = []
    for epoch in range(math.ceil(args.epochs)):
        plan += batches(encoded, range(first), args.batch_tokens, rng)
        plan += batches(encoded, range(first, len(encoded)), args.batch_tokens, rng)
    plan = plan[:int(len(plan) * args.epochs / math.ceil(args.epochs))]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05, betas=(0.9, 0.98))
    sched = get_cosine_with_min_lr_schedule_with_warmup(
        opt, num_warmup_steps=max(1, len(plan) // 30), num_training_steps=len(plan), min_lr_rate=0.05)
    model.train()
    for step, batch in enumerate(plan):
        ids, mask, labels = collate([encoded[i] for i in batch], eos)
        loss = loss_fn(model, ids, mask, labels, args.prompt_loss, args.answer_loss == "example")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == len(plan) - 1:
            msg = f"step {step}/{len(plan)} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e} " \
                  f"{time.time() - wall:.0f}s"
            if step % CHECKPOINT_EVERY == 0 or step == len(plan) - 1:
                model.eval()
                msg += " held-out greedy " + " ".join(
                    f"{fam} {quick_accuracy(model, items, eos):.2f}" for fam, items in held.items())
                save(model, tokenizer, args)      # a usable model at every checkpoint
                model.train()
            log.info(msg)

    save(model, tokenizer, args)
    log.info("saved %s; wall %.0f s, CPU %.0f s", args.out, time.time() - wall, time.process_time() - cpu)


def run_record(args: argparse.Namespace) -> dict:
    """What ``training_args.json`` keeps of the command line: every argument that decides the
    weights, which ``evaluate.py`` needs to regenerate the training set. Not ``--out``, and only
    whether ``--data`` was given: those are paths of the machine that trained it, and the folder
    ships to every user."""
    return {k: bool(v) if k == "data" else v for k, v in vars(args).items() if k != "out"}


def save(model, tokenizer, args) -> None:
    """Write the model folder in float16 (half the bytes; the engine loads it as float32)."""
    import copy

    import torch

    out = Path(args.out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    half = copy.deepcopy(model).to(torch.float16)
    eos = tokenizer.eos_token_id
    half.generation_config.eos_token_id = half.generation_config.pad_token_id = eos
    half.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / TRAINING_ARGS).write_text(json.dumps(run_record(args), indent=1))
    for f in tmp.iterdir():
        f.chmod(0o644)                    # safetensors writes 0600; the package is for everyone
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


if __name__ == "__main__":
    main()
