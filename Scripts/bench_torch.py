#!/usr/bin/env python3
"""PyTorch CPU peer for attnchat's inference benchmark.

Builds a random GPT-2 (transformers GPT2LMHeadModel) or, with --family llama, a random Llama
(LlamaForCausalLM: RMSNorm, SwiGLU MLP of width --mlp, --kv-heads key/value heads, half-split
rotary positions, no biases, LM head tied to the embedding unless --untied), float32, eval mode,
fixed seed, of the given shape and measures, on the CPU with the given number of threads:

  prefill tokens/s  one forward pass over P random tokens (with the KV cache being built, as
                    generate() does); best of 3 after a warm-up; P / time.
  decode tokens/s   model.generate(greedy, KV cache, min_new_tokens = max_new_tokens = G) from
                    a P-token prompt; best of 3 after a warm-up;
                    G / (best generate time - best prefill time).
                    Prefill and generate runs are interleaved.
                    (generate's first new token comes out of its prefill, so strictly this is
                    G tokens over G-1 decode steps; the bias is small for G >= 64 and the same
                    definition is used for attnchat's side.)

Why: every performance claim runs its peer on the same machine in the same run and prints the
ratio (ARCHITECTURE.md, "Threads and performance"; results go to BENCHMARKS.md); this is that
peer. With --save-dir the very same weights are written (save_pretrained, safetensors:
config.json + model.safetensors) so that attnchat can load and time exactly the same model.

Prints one human-readable line; with --json, one JSON object on stdout instead:
  {"prefill_tokens_per_s", "decode_tokens_per_s", "torch", "transformers", "threads",
   "attn_implementation", ...shape and timing fields}

Example (GPT-2 small shape):
  .venv/bin/python Scripts/bench_torch.py --layers 12 --heads 12 --embd 768 --vocab 50257 \\
      --ctx 1024 --prompt-tokens 128 --new-tokens 64 --threads 2 --json
Example (SmolLM2-135M shape):
  .venv/bin/python Scripts/bench_torch.py --family llama --layers 30 --heads 9 --kv-heads 3 \\
      --embd 576 --mlp 1536 --vocab 49152 --ctx 8192 --rope-theta 100000 \\
      --prompt-tokens 128 --new-tokens 64 --threads 2 --json
"""

import argparse
import json
import sys
import time

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

SEED = 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", choices=["gpt2", "llama"], default="gpt2",
                   help="gpt2: GPT2LMHeadModel; llama: LlamaForCausalLM (RMSNorm, SwiGLU, GQA, RoPE)")
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--embd", type=int, required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--ctx", type=int, required=True)
    p.add_argument("--kv-heads", type=int, help="llama: key/value heads (default: --heads)")
    p.add_argument("--mlp", type=int, help="llama: MLP width (intermediate_size; default 4 x --embd)")
    p.add_argument("--rope-theta", type=float, default=10000.0, help="llama: rotary base")
    p.add_argument("--rms-eps", type=float, default=1e-5, help="llama: rms_norm_eps")
    p.add_argument("--untied", action="store_true", help="llama: an LM head of its own (tie_word_embeddings false)")
    p.add_argument("--prompt-tokens", type=int, required=True)
    p.add_argument("--new-tokens", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up (best is kept)")
    p.add_argument("--save-dir", help="also save the model here (save_pretrained, safetensors)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a line")
    a = p.parse_args(argv)
    if a.prompt_tokens < 1 or a.new_tokens < 1 or a.prompt_tokens + a.new_tokens > a.ctx:
        p.error("need 1 <= prompt-tokens, 1 <= new-tokens and prompt-tokens + new-tokens <= ctx")
    if a.embd % a.heads:
        p.error("embd must be divisible by heads")
    if a.family == "gpt2" and (a.kv_heads is not None or a.mlp is not None or a.untied):
        p.error("--kv-heads, --mlp and --untied are for --family llama")
    a.kv_heads = a.heads if a.kv_heads is None else a.kv_heads
    a.mlp = 4 * a.embd if a.mlp is None else a.mlp
    if a.kv_heads < 1 or a.heads % a.kv_heads:
        p.error("kv-heads must divide heads")
    return a


def build_model(a):
    if a.family == "llama":
        # SmolLM2's special ids: 0 is both <|endoftext|> (bos) and eos in the base model.
        config = LlamaConfig(vocab_size=a.vocab, hidden_size=a.embd, intermediate_size=a.mlp, num_hidden_layers=a.layers,
                             num_attention_heads=a.heads, num_key_value_heads=a.kv_heads, head_dim=a.embd // a.heads,
                             max_position_embeddings=a.ctx, rms_norm_eps=a.rms_eps,
                             rope_parameters={"rope_type": "default", "rope_theta": a.rope_theta},
                             tie_word_embeddings=not a.untied, bos_token_id=0, eos_token_id=0)
        model_class = LlamaForCausalLM
    else:
        special = min(50256, a.vocab - 1)  # GPT-2's <|endoftext|>, or the last id of a smaller vocab
        config = GPT2Config(vocab_size=a.vocab, n_positions=a.ctx, n_embd=a.embd, n_layer=a.layers,
                            n_head=a.heads, bos_token_id=special, eos_token_id=special)
        model_class = GPT2LMHeadModel
    torch.manual_seed(SEED)
    model = model_class(config)  # attention implementation: transformers' default choice (sdpa)
    model.eval()
    return model


def best_times(fns, repeats):
    """Warm each fn up once, then time them interleaved `repeats` times; best time of each.

    Interleaving makes a burst of load from elsewhere on the machine hit prefill and generate
    alike instead of skewing their difference (the decode time).
    """
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main(argv=None):
    a = parse_args(argv)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(a.threads)

    model = build_model(a)
    if a.save_dir:
        model.save_pretrained(a.save_dir, safe_serialization=True)

    gen = torch.Generator().manual_seed(SEED + 1)
    prompt = torch.randint(0, a.vocab, (1, a.prompt_tokens), generator=gen)
    mask = torch.ones_like(prompt)
    eos = model.config.eos_token_id

    with torch.inference_mode():
        def prefill():
            model(prompt, attention_mask=mask, use_cache=True)

        def generate():
            out = model.generate(prompt, attention_mask=mask, do_sample=False, use_cache=True,
                                 max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens,
                                 pad_token_id=eos)
            assert out.shape[1] == a.prompt_tokens + a.new_tokens, out.shape

        t_prefill, t_generate = best_times([prefill, generate], a.repeats)

    decode_time = t_generate - t_prefill
    result = {
        "prefill_tokens_per_s": a.prompt_tokens / t_prefill,
        "decode_tokens_per_s": a.new_tokens / decode_time if decode_time > 0 else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "attn_implementation": model.config._attn_implementation,
        "family": a.family, "layers": a.layers, "heads": a.heads, "kv_heads": a.kv_heads, "embd": a.embd,
        "mlp": a.mlp, "vocab": a.vocab, "ctx": a.ctx,
        "prompt_tokens": a.prompt_tokens, "new_tokens": a.new_tokens,
        "prefill_s": t_prefill, "generate_s": t_generate,
        "params": sum(p.numel() for p in model.parameters()),
    }
    if a.json:
        print(json.dumps(result))
    else:
        dec = result["decode_tokens_per_s"]
        dec_text = f"{dec:.1f} tok/s" if dec else "n/a (generate took no longer than prefill)"
        print(f"torch {result['torch']} / transformers {result['transformers']} ({result['attn_implementation']}), "
              f"{result['threads']} threads, {a.family} {a.layers}L {a.heads}H/{a.kv_heads}KV d{a.embd} "
              f"M{a.mlp} V{a.vocab} ctx{a.ctx}: "
              f"prefill {result['prefill_tokens_per_s']:.1f} tok/s (P={a.prompt_tokens}), "
              f"decode {dec_text} (G={a.new_tokens})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
