#!/usr/bin/env python3
"""Generate the GPT-2 reference fixtures for the Swift `GPT` tests.

Writes Tests/GPTTests/Fixtures/ (relative to the repository root, found from this
script's location). Each fixture directory holds a tiny random GPT-2 checkpoint as
PyTorch/transformers writes (or as the official `gpt2` hub checkpoint lays out) and an
`expected.json` with what transformers computes from it:

  tiny-odd/                   vocab 301, ctx 64, d 48, 2 layers, 3 heads (head size 16),
                              gelu_new; save_pretrained (safetensors), float32.
  small/                      vocab 512, ctx 128, d 64, 3 layers, 4 heads; same treatment.
  tiny-odd-official-layout/   tiny-odd's weights written with safetensors.torch.save_file in
                              the layout of the official `gpt2` checkpoint: no `transformer.`
                              prefix, no lm_head, plus the causal-mask buffers h.N.attn.bias
                              [1,1,n_positions,n_positions]. No expected.json of its own:
                              its outputs are tiny-odd's (../tiny-odd/expected.json).
  tiny-odd-f16/, tiny-odd-bf16/
                              tiny-odd's weights stored as float16 / bfloat16
                              (save_pretrained). Expected outputs are computed in float32
                              from the rounded weights, so an engine that upcasts to f32 at
                              load time should match them to ~1e-4. Attentions of the
                              50-token sequence: last query row only.

expected.json:
  {"sequences": [{"input_ids": [...],
                  "logits": [[V floats] per position],
                  "attentions_rows": "all" | "last",
                  "attentions": [layer][head][query row][T floats]}, ...],
   "greedy": {"prompt_ids": [...], "new_ids": [20 ids], "min_top2_margin": float}}
With "attentions_rows": "last" only the last query row of each head is stored (the inner
list has one row), to keep the files small. Floats are written as the shortest decimal
that round-trips the float32 value.

Why: these are the ground truth that the from-scratch Swift forward pass (prefill, KV-cached
decode, attention capture, safetensors/HF import incl. F16/BF16) is checked against.

Usage: .venv/bin/python Scripts/make-gpt2-fixtures.py   (create the venv with Scripts/setup-venv)
Deterministic: the same torch/transformers versions give byte-identical files.
"""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "GPTTests" / "Fixtures"

GREEDY_NEW_TOKENS = 20
KV_TOLERANCE = 1e-5


def make_config(vocab, ctx, embd, layers, heads):
    return GPT2Config(
        vocab_size=vocab,
        n_positions=ctx,
        n_embd=embd,
        n_layer=layers,
        n_head=heads,
        n_inner=None,  # -> 4 * n_embd
        activation_function="gelu_new",
        layer_norm_epsilon=1e-5,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        # The default 50256 lies outside these tiny vocabularies; use the last id instead.
        bos_token_id=vocab - 1,
        eos_token_id=vocab - 1,
    )


def build_model(config, seed):
    """A GPT2LMHeadModel with every parameter re-drawn at a scale that gives peaked logits.

    wte ~ N(0, 0.5) (tied with lm_head), other weight matrices and wpe ~ N(0, 0.2),
    LayerNorm weights 1 + 0.1 N(0, 1), all biases 0.05 N(0, 1).
    """
    torch.manual_seed(seed)
    model = GPT2LMHeadModel._from_config(config, attn_implementation="eager")
    with torch.no_grad():
        # named_parameters() lists the tied wte / lm_head weight once.
        for name, p in model.named_parameters():
            if ".ln_" in name or name.startswith("transformer.ln_f"):
                if name.endswith(".weight"):
                    p.copy_(1.0 + 0.1 * torch.randn_like(p))
                else:
                    p.copy_(0.05 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif name == "transformer.wte.weight":
                # Also the (tied) output projection: 0.5 gives peaked next-token distributions.
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "lm_head not tied"
    model.eval()
    return model


def f32_list(t):
    """Nested lists of Python floats, each exactly a float32 value."""
    a = t.detach().to(torch.float32).cpu().numpy()
    assert np.isfinite(a).all()
    return a.tolist()


def float32_repr(x):
    """Shortest decimal that round-trips the float32 value x (e.g. 0.1, 1.2345678e-09)."""
    s = str(np.float32(x))
    assert np.float32(float(s)) == np.float32(x), (x, s)
    return s


def dumps_compact(obj):
    """JSON with floats written as their shortest float32 round-trip decimal."""
    def enc(o):
        if isinstance(o, float):
            return float32_repr(o)
        if isinstance(o, bool) or o is None:
            return json.dumps(o)
        if isinstance(o, (int, str)):
            return json.dumps(o)
        if isinstance(o, list):
            return "[" + ",".join(enc(v) for v in o) + "]"
        if isinstance(o, dict):
            return "{" + ",".join(json.dumps(k) + ":" + enc(v) for k, v in o.items()) + "}"
        raise TypeError(type(o))
    return enc(obj) + "\n"


@torch.inference_mode()
def check_kv_cache(model, ids, full_logits):
    """Feed the tokens one at a time through the KV cache; must match the full forward.

    The tolerance is KV_TOLERANCE relative to the largest |logit| (they reach ~10-20 here,
    where one float32 ulp is already ~1e-6): float32 rounding differs between the two paths.
    """
    cache = None
    worst = 0.0
    for i in range(ids.shape[1]):
        out = model(ids[:, i:i + 1], cache=cache, use_cache=True)
        cache = out.cache
        worst = max(worst, (out.logits[0, 0] - full_logits[i]).abs().max().item())
    scale = max(1.0, full_logits.abs().max().item())
    assert worst < KV_TOLERANCE * scale, f"KV-cached decode differs from the full forward by {worst}"
    return worst, scale


@torch.inference_mode()
def greedy(model, prompt):
    ids = torch.tensor([prompt])
    out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=GREEDY_NEW_TOKENS,
                         do_sample=False, use_cache=True, pad_token_id=0,
                         output_logits=True, return_dict_in_generate=True)
    new_ids = out.sequences[0, len(prompt):].tolist()
    assert len(new_ids) == GREEDY_NEW_TOKENS, f"generate stopped early (eos?): {new_ids}"
    # Cross-check with a plain argmax loop over full forwards, and measure how far the winner
    # is ahead of the runner-up: a tiny margin would make the fixture fragile.
    seq = list(prompt)
    margin = math.inf
    for step in range(GREEDY_NEW_TOKENS):
        logits = model(torch.tensor([seq])).logits[0, -1]
        top2 = torch.topk(logits, 2).values
        margin = min(margin, (top2[0] - top2[1]).item())
        seq.append(int(torch.argmax(logits)))
        gen_logits = out.logits[step][0]
        assert (gen_logits - logits).abs().max().item() < KV_TOLERANCE * max(1.0, logits.abs().max().item())
    assert seq[len(prompt):] == new_ids, "generate() disagrees with the argmax loop"
    assert margin > 1e-3, f"greedy top-2 margin too small for a stable fixture: {margin}"
    return new_ids, margin


@torch.inference_mode()
def expected_outputs(model, sequences, last_row_only, prompt):
    vocab = model.config.vocab_size
    result = {"sequences": []}
    for ids_list in sequences:
        ids = torch.tensor([ids_list])
        out = model(ids, output_attentions=True, use_cache=False)
        logits = out.logits[0]
        probs = torch.softmax(logits, dim=-1)
        entropy = -(probs * probs.clamp_min(1e-30).log()).sum(-1).mean().item()
        assert entropy < math.log(vocab) - 1.5, \
            f"logits too flat: mean entropy {entropy:.3f} vs uniform {math.log(vocab):.3f}"
        kv_err, logit_scale = check_kv_cache(model, ids, logits)
        rows = "last" if len(ids_list) in last_row_only else "all"
        atts = torch.stack([a[0] for a in out.attentions])  # [layer, head, T, T]
        if rows == "last":
            atts = atts[:, :, -1:, :]
        result["sequences"].append({
            "input_ids": ids_list,
            "logits": f32_list(logits),
            "attentions_rows": rows,
            "attentions": f32_list(atts),
        })
        print(f"    seq len {len(ids_list):3d}: mean entropy {entropy:.3f} (uniform {math.log(vocab):.3f}), "
              f"max p {probs.max(-1).values.mean().item():.3f}, max |logit| {logit_scale:.1f}, KV-cache max err {kv_err:.2e}, attentions {rows}")
    new_ids, margin = greedy(model, prompt)
    result["greedy"] = {"prompt_ids": prompt, "new_ids": new_ids, "min_top2_margin": margin}
    print(f"    greedy: {new_ids} (min top-2 margin {margin:.4f})")
    return result


def write_expected(directory, result, note):
    result = {"note": note, "torch": torch.__version__, "transformers": transformers.__version__, **result}
    (directory / "expected.json").write_text(dumps_compact(result))


def random_ids(gen, vocab, n):
    return torch.randint(0, vocab, (n,), generator=gen).tolist()


def fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def official_layout_state(model):
    """The key layout of the official `gpt2` checkpoint: no prefix, no lm_head, mask buffers."""
    cfg = model.config
    state = {k: v.detach().clone().contiguous() for k, v in model.transformer.state_dict().items()}
    mask = torch.tril(torch.ones(cfg.n_positions, cfg.n_positions, dtype=torch.float32))
    mask = mask.view(1, 1, cfg.n_positions, cfg.n_positions)
    for layer in range(cfg.n_layer):
        state[f"h.{layer}.attn.bias"] = mask.clone()
    return state


@torch.inference_mode()
def same_logits(a, b, ids):
    ids = torch.tensor([ids])
    return (a(ids).logits - b(ids).logits).abs().max().item()


def load_back(directory):
    return GPT2LMHeadModel.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # fixed reduction order -> reproducible last bits
    FIXTURES.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)

    # ---- tiny-odd ----------------------------------------------------------------------
    print("tiny-odd")
    tiny = build_model(make_config(301, 64, 48, 2, 3), seed=1)
    tiny_dir = fresh_dir(FIXTURES / "tiny-odd")
    tiny.save_pretrained(tiny_dir, safe_serialization=True)
    tiny_seqs = [random_ids(gen, 301, 7), random_ids(gen, 301, 50)]
    tiny_prompt = random_ids(gen, 301, 5)
    tiny_result = expected_outputs(tiny, tiny_seqs, last_row_only=(), prompt=tiny_prompt)
    write_expected(tiny_dir, tiny_result, "float32 weights, eager attention")
    err = same_logits(tiny, load_back(tiny_dir), tiny_seqs[1])
    assert err == 0.0, f"tiny-odd reload differs by {err}"

    # ---- tiny-odd-official-layout --------------------------------------------------------
    print("tiny-odd-official-layout")
    off_dir = fresh_dir(FIXTURES / "tiny-odd-official-layout")
    shutil.copy(tiny_dir / "config.json", off_dir / "config.json")
    safetensors.torch.save_file(official_layout_state(tiny), off_dir / "model.safetensors",
                                metadata={"format": "pt"})
    # No expected.json of its own (size budget): the weights are tiny-odd's, so are the outputs.
    err = same_logits(tiny, load_back(off_dir), tiny_seqs[1])
    assert err == 0.0, f"official-layout reload differs by {err}"
    print("    transformers loads it back with identical logits")

    # ---- tiny-odd-f16 / tiny-odd-bf16 -------------------------------------------------
    for suffix, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        print(f"tiny-odd-{suffix}")
        d = fresh_dir(FIXTURES / f"tiny-odd-{suffix}")
        low = build_model(make_config(301, 64, 48, 2, 3), seed=1).to(dtype)
        for (n, p), (_, q) in zip(low.named_parameters(), tiny.named_parameters()):
            assert torch.equal(p, q.to(dtype)), f"{n}: not tiny-odd's weights"
        low.save_pretrained(d, safe_serialization=True)
        # Expected outputs: float32 model holding the rounded weights.
        rounded = load_back(d)
        for (n, p), (_, q) in zip(rounded.named_parameters(), low.named_parameters()):
            assert p.dtype == torch.float32 and torch.equal(p, q.float()), n
        res = expected_outputs(rounded, tiny_seqs, last_row_only=(50,), prompt=tiny_prompt)
        write_expected(d, res, f"{suffix} weights; outputs computed in float32 from the rounded weights")

    # ---- small ---------------------------------------------------------------------------
    print("small")
    small = build_model(make_config(512, 128, 64, 3, 4), seed=2)
    small_dir = fresh_dir(FIXTURES / "small")
    small.save_pretrained(small_dir, safe_serialization=True)
    small_seqs = [random_ids(gen, 512, 7), random_ids(gen, 512, 100)]
    small_prompt = random_ids(gen, 512, 6)
    small_result = expected_outputs(small, small_seqs, last_row_only=(100,), prompt=small_prompt)
    write_expected(small_dir, small_result, "float32 weights, eager attention")
    err = same_logits(small, load_back(small_dir), small_seqs[1])
    assert err == 0.0, f"small reload differs by {err}"

    total = 0
    for f in sorted(FIXTURES.rglob("*")):
        if f.is_file():
            total += f.stat().st_size
            print(f"  {f.relative_to(FIXTURES)}: {f.stat().st_size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
