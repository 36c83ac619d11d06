"""Writes a saved Hugging Face Llama folder as a GGUF file, as llama.cpp's converter lays it out.

Why: the GGUF tests need a GGUF file and nothing may be downloaded, so they convert the tiny
random Llama of ``model_factory`` on the spot. transformers' GGUF loader expects llama.cpp's
metadata keys (``llama.block_count``, ``tokenizer.ggml.tokens``, ...) and tensor names
(``blk.0.attn_q.weight``); the ``gguf`` package's writer and its own name table give both.
llama.cpp stores the query and key projections with each head's rotary halves interleaved,
and transformers undoes that on load, so they are permuted here the way llama.cpp does. The
tensors stay float32, so the GGUF-loaded model equals the folder's (``test_gguf.py`` checks).
"""
from __future__ import annotations

import json
import os

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                 "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
                 "{% endif %}")


def write_gguf(folder: str, path: str, chat_template: str | None = CHAT_TEMPLATE) -> str:
    """Write the Llama model saved in ``folder`` (weights, config, tokenizer.json) to ``path``."""
    import gguf
    from safetensors.numpy import load_file

    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "tokenizer.json")) as f:
        tokenizer = json.load(f)
    layers, heads = config["num_hidden_layers"], config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny random llama")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(layers)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    rope = config.get("rope_theta") or config.get("rope_parameters", {}).get("rope_theta", 1e4)
    writer.add_rope_freq_base(float(rope))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    _add_tokenizer(writer, tokenizer, config, chat_template)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, layers)
    for hf_name, tensor in sorted(load_file(os.path.join(folder, "model.safetensors")).items()):
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ValueError(f"no GGUF name for {hf_name}")
        if hf_name.endswith("q_proj.weight"):
            tensor = _interleave_rotary_halves(tensor, heads)
        elif hf_name.endswith("k_proj.weight"):
            tensor = _interleave_rotary_halves(tensor, kv_heads)
        writer.add_tensor(name, tensor.astype("float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _add_tokenizer(writer, tokenizer: dict, config: dict, chat_template: str | None) -> None:
    """A byte-level BPE as llama.cpp's ``gpt2`` tokenizer: tokens by id, merges, and the
    special tokens marked as control tokens (type 3)."""
    vocab = dict(tokenizer["model"]["vocab"])
    special = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", [])}
    vocab.update(special)
    tokens = [None] * config["vocab_size"]
    for token, index in vocab.items():
        tokens[index] = token
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in special else 1 for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m)
                             for m in tokenizer["model"]["merges"]])
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_pad_token_id(config["pad_token_id"])
    writer.add_add_bos_token(False)
    if chat_template:
        writer.add_chat_template(chat_template)


def _interleave_rotary_halves(weight, heads: int):
    """Hugging Face keeps each head's rotary pairs as two halves; llama.cpp interleaves them."""
    rows = weight.shape[0]
    return (weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))
