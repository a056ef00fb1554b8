#!/usr/bin/env python3
"""Generate the Llama / Qwen2 / Mistral reference fixtures for the Swift `GPT` tests.

Writes Tests/GPTTests/Fixtures/<name>/ (next to the GPT-2 ones, same `expected.json` format;
see make-gpt2-fixtures.py, whose helpers this script reuses). Each is a tiny random model of
one family, with the odd shapes the issue asks for, saved by transformers' save_pretrained:

  llama-gqa/          LlamaForCausalLM: hidden 48, 6 query heads over 2 key/value heads (head
                      size 8), MLP 88, 2 layers, vocab 320, untied lm_head, no biases, F32.
  llama-headdim-bias/ LlamaForCausalLM: hidden 40, 4 heads over 2, head_dim 12 (so the heads
                      are 48 wide, not 40), attention_bias and mlp_bias, tied, F16 weights.
  qwen2-sharded/      Qwen2ForCausalLM: hidden 36, 6 heads over 3 (head size 6), Q/K/V biases,
                      rope_theta 1e6, tied, BF16 weights in two shards plus
                      model.safetensors.index.json.
  mistral-mqa/        MistralForCausalLM: hidden 32, 4 heads over 1 (multi-query), untied,
                      sliding_window 4096 (above the context: the same model), F32.

Outputs of the F16/BF16 models are computed in float32 from the rounded weights.

Usage: .venv/bin/python Scripts/make-llama-family-fixtures.py   (venv: Scripts/setup-venv)
Deterministic: the same torch/transformers versions give byte-identical files.
"""

import importlib.util
from pathlib import Path

import torch
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("gpt2fixtures", HERE / "make-gpt2-fixtures.py")
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

VOCAB = 320
CONTEXT = 64


def randomise(model, seed):
    """Every parameter re-drawn at scales that give peaked logits: embeddings and an untied head
    N(0, 0.5), other matrices N(0, 0.2), norm weights 1 + 0.1 N(0, 1), biases 0.05 N(0, 1)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "embed_tokens" in name or name == "lm_head.weight":
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model.eval()


COMMON = dict(vocab_size=VOCAB, max_position_embeddings=CONTEXT, num_hidden_layers=2, rms_norm_eps=1e-5,
              hidden_act="silu", bos_token_id=1, eos_token_id=2, attention_dropout=0.0)

MODELS = [
    ("llama-gqa", LlamaForCausalLM, LlamaConfig(
        hidden_size=48, intermediate_size=88, num_attention_heads=6, num_key_value_heads=2,
        tie_word_embeddings=False, rope_theta=10000.0, **COMMON), torch.float32, None),
    ("llama-headdim-bias", LlamaForCausalLM, LlamaConfig(
        hidden_size=40, intermediate_size=72, num_attention_heads=4, num_key_value_heads=2, head_dim=12,
        attention_bias=True, mlp_bias=True, tie_word_embeddings=True, rope_theta=500.0, **COMMON), torch.float16, None),
    ("qwen2-sharded", Qwen2ForCausalLM, Qwen2Config(
        hidden_size=36, intermediate_size=60, num_attention_heads=6, num_key_value_heads=3,
        tie_word_embeddings=True, rope_theta=1000000.0, use_sliding_window=False, **COMMON), torch.bfloat16, "40KB"),
    ("mistral-mqa", MistralForCausalLM, MistralConfig(
        hidden_size=32, intermediate_size=56, num_attention_heads=4, num_key_value_heads=1,
        tie_word_embeddings=False, rope_theta=10000.0, sliding_window=4096, **COMMON), torch.float32, None),
]


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(4321)
    for seed, (name, cls, config, dtype, shard) in enumerate(MODELS, start=10):
        print(name)
        model = randomise(cls._from_config(config, attn_implementation="eager"), seed)
        directory = g.fresh_dir(g.FIXTURES / name)
        stored = model.to(dtype)
        kwargs = {"max_shard_size": shard} if shard else {}
        stored.save_pretrained(directory, safe_serialization=True, **kwargs)
        # The reference is what transformers computes in float32 from the file's (rounded) weights.
        reference = cls.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
        if shard:
            assert (directory / "model.safetensors.index.json").exists(), "expected a sharded checkpoint"
        sequences = [g.random_ids(gen, VOCAB, 7), g.random_ids(gen, VOCAB, 40)]
        prompt = g.random_ids(gen, VOCAB, 5)
        # Token 2 is eos: keep it out of prompts so generate() runs its 20 steps.
        sequences = [[t if t != 2 else 3 for t in s] for s in sequences]
        prompt = [t if t != 2 else 3 for t in prompt]
        reference.generation_config.eos_token_id = None
        result = g.expected_outputs(reference, sequences, last_row_only=(40,), prompt=prompt)
        g.write_expected(directory, result, f"{cls.__name__}, {dtype} weights, eager attention, outputs in float32")

    total = 0
    for name, *_ in MODELS:
        for f in sorted((g.FIXTURES / name).rglob("*")):
            total += f.stat().st_size
            print(f"  {name}/{f.name}: {f.stat().st_size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
