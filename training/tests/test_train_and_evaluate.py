"""How the built-in model is trained and measured: the one command, the loss, the held-out list.

``python -m training.train`` must write a folder the engine loads and that carries no path of
the machine that trained it; ``evaluate.py`` must score every model on the same list.
"""
import json
import random

import pytest

from training import data, evaluate, tasks, train


def test_the_one_command_trains_a_model_the_engine_loads(tmp_path):
    """A few steps of the real command; ``evaluate`` then finds every training prompt again
    from the recorded arguments, and scores through the engine."""
    import torch

    out = tmp_path / "model"
    threads = torch.get_num_threads()
    try:
        train.main(["--examples", "120", "--out", str(out), "--vocab", "400", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)        # the command sets it for its process
    recorded = (out / evaluate.TRAINING_ARGS).read_text()
    assert str(tmp_path) not in recorded          # the folder ships: no path of this machine
    args = json.loads(recorded)
    assert args["examples"] == 120 and args["seed"] == 1      # the shipped weights' seed
    assert "out" not in args and args["data"] is False
    seen = evaluate.training_fields(out, None)
    rng = random.Random(args["seed"])
    train_pool, _ = data.pools(None)
    again = tasks.training_examples(rng, train_pool, 120, args["copy_first"])
    assert {evaluate._fields(e) for e in again} == seen
    held = evaluate.held_out(None, 3, seen)
    assert held and not {evaluate._fields(e) for e in held} & seen
    answers = evaluate.score(out, held)
    assert len(answers) == len(held)
    for ex, got in zip(held, answers):
        if ex.choices:
            assert got in ex.choices          # constrained decoding: always one of them


def test_dropping_a_seen_example_leaves_the_rest_of_the_held_out_list_alone():
    """Two runs train on different sets, so each drops different held-out examples; their
    figures compare only if every example neither run saw is the same in both lists."""
    full = evaluate.held_out(None, 8, set())
    assert len({e.prompt for e in full}) == len(full)
    dropped = full[3]
    again = evaluate.held_out(None, 8, {evaluate._fields(dropped)})
    assert dropped not in again and len(again) == len(full)
    assert [e for e in again if e in full] == [e for e in full if e is not dropped]
    replacement, = [e for e in again if e not in full]
    assert (replacement.family, replacement.task) == (dropped.family, dropped.task)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    """The tests' tiny random Llama (``infersql.demo_model``): ``loss_fn`` needs its ``.model``
    and ``.lm_head``, as the built-in model has them."""
    from transformers import AutoModelForCausalLM

    from infersql.demo_model import build_random_model

    folder = build_random_model(tmp_path_factory.mktemp("llama"), "llama")
    return AutoModelForCausalLM.from_pretrained(folder).eval()


def test_each_example_weighs_the_same_in_the_answer_loss(tiny_llama):
    """A one-token yes/no beside a five-token copy: with ``per_example`` each answer's mean
    counts once, so the decision is half the loss, not a sixth."""
    import torch
    import torch.nn.functional as F

    items = [([5, 6, 7, 8], [9, 0]), ([5, 6], [10, 11, 12, 13, 14, 0])]     # answers end in EOS 0
    ids, mask, labels = train.collate(items, pad_id=0)
    with torch.no_grad():
        per_token = F.cross_entropy(tiny_llama(input_ids=ids).logits[:, :-1].transpose(1, 2),
                                    labels[:, 1:], reduction="none", ignore_index=-100)
        got = train.loss_fn(tiny_llama, ids, mask, labels, prompt_weight=0.0, per_example=True)
        flat = train.loss_fn(tiny_llama, ids, mask, labels, prompt_weight=0.0, per_example=False)
    first, second = per_token[0, 3:5], per_token[1, 1:7]
    assert torch.allclose(got, (first.mean() + second.mean()) / 2)
    assert torch.allclose(flat, torch.cat([first, second]).mean())
    assert not torch.allclose(got, flat)


def test_right_padding_needs_no_attention_mask(tiny_llama):
    """``quick_accuracy`` runs the model without a mask: a right-padded row's real tokens must get the
    same hidden states as they do alone."""
    import torch

    items = [([3, 4, 5, 6, 7, 8, 9], [10, 0]), ([3, 4], [11, 0])]
    ids, mask, _ = train.collate(items, pad_id=0)
    with torch.no_grad():
        padded = tiny_llama.model(input_ids=ids).last_hidden_state
        alone = tiny_llama.model(input_ids=ids[1:, :4]).last_hidden_state
    assert mask[1].tolist() == [1] * 4 + [0] * 5
    assert torch.allclose(padded[1, :4], alone[0], atol=1e-5)
