#!/usr/bin/env python3
"""Generate the training reference fixtures for the Swift `Training` tests.

Writes Tests/TrainingTests/Fixtures/ (relative to the repository root, found from this
script's location), everything except README.md and positions/ (Scripts/make-position-fixtures.py):

  tiny/config.json, tiny/model.safetensors
        A tiny random GPT-2 (vocab 67, ctx 16, d 32, 2 layers, 4 heads, gelu_new, tied
        lm_head), float32, written by transformers' save_pretrained (safetensors). transformers
        5 writes the keys with a `transformer.` prefix and no lm_head.
  expected.json
        The batch (int token ids), the float64 reference loss(es) and the AdamW settings.
  expected.safetensors (all F32)
        logits              [B, T, V] logits of the batch at the initial weights
        grad.<name>         dLoss/dparam at the initial weights
        step1.<name>        every parameter after one AdamW step
        grad2.<name>        dLoss/dparam at the step-1 weights (same batch)
        step2.<name>        every parameter after the second AdamW step
      <name> is the GPT-2 name without `transformer.`: wte.weight, wpe.weight,
      h.N.ln_1.weight, h.N.attn.c_attn.weight (Conv1D, [in, out]), ..., ln_f.bias.

All reference arithmetic (forward, backward, both AdamW steps) runs in float64, starting from
the float32 weights exactly as saved; results are rounded to float32 only when written. The
float64 losses are in expected.json.

Usage: .venv/bin/python Scripts/make-training-fixtures.py   (create the venv with Scripts/setup-venv)
Deterministic: the same torch/transformers versions give byte-identical files.
"""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers
from transformers import GPT2Config, GPT2LMHeadModel

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "TrainingTests" / "Fixtures"

SEED = 1234
B, T = 3, 16
VOCAB = 67
LR = 1e-3
BETAS = (0.9, 0.95)
EPS = 1e-8
WEIGHT_DECAY = 0.1
N_EMBD = 32
KEY_SLICE = (N_EMBD, 2 * N_EMBD)  # c_attn.bias[32:64]: the key bias, gradient identically zero


def make_model():
    config = GPT2Config(
        vocab_size=VOCAB, n_positions=16, n_embd=32, n_layer=2, n_head=4, n_inner=None,
        activation_function="gelu_new", layer_norm_epsilon=1e-5,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel._from_config(config, attn_implementation="eager")
    with torch.no_grad():
        # named_parameters() lists the tied wte / lm_head weight once.
        for name, p in model.named_parameters():
            is_ln = ".ln_" in name or name.startswith("transformer.ln_f")
            if is_ln and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "lm_head not tied"
    model.eval()  # dropouts are 0 anyway
    return model


def short(name):
    assert name.startswith("transformer."), name
    return name[len("transformer."):]


def loss_of(model, inputs, targets):
    logits = model(inputs, use_cache=False).logits  # [B, T, V]
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), reduction="mean")
    return logits, loss


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = make_model()

    # The batch: a random token stream of B*T+1 tokens cut into B windows, like a data loader
    # (window b = stream[b*T : b*T+T], its targets = stream[b*T+1 : b*T+T+1]).
    stream = torch.randint(0, VOCAB, (B * T + 1,))
    inputs = torch.stack([stream[b * T: b * T + T] for b in range(B)])
    targets = torch.stack([stream[b * T + 1: b * T + T + 1] for b in range(B)])

    if FIXTURES.exists():
        for child in FIXTURES.iterdir():
            if child.name in ("README.md", "positions"):  # positions/ is make-position-fixtures.py's
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(FIXTURES / "tiny", safe_serialization=True)

    # Everything below in float64, from the float32 weights exactly as saved.
    model = model.double()
    named = [(short(n), p) for n, p in model.named_parameters()]
    names = [n for n, _ in named]
    assert names[0] == "wte.weight" and "lm_head.weight" not in names
    decay = [p for _, p in named if p.dim() >= 2]
    no_decay = [p for _, p in named if p.dim() < 2]
    decay_names = [n for n, p in named if p.dim() >= 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=EPS, foreach=False, fused=False)

    init = {n: p.detach().clone() for n, p in named}
    tensors = {}

    # Step 1.
    opt.zero_grad(set_to_none=True)
    logits, loss = loss_of(model, inputs, targets)
    loss.backward()
    loss1 = loss.item()
    tensors["logits"] = logits.detach()
    grads1 = {n: p.grad.detach().clone() for n, p in named}
    opt.step()
    step1 = {n: p.detach().clone() for n, p in named}

    # Step 2: same batch, from the step-1 weights.
    opt.zero_grad(set_to_none=True)
    _, loss = loss_of(model, inputs, targets)
    loss.backward()
    loss2 = loss.item()
    grads2 = {n: p.grad.detach().clone() for n, p in named}
    opt.step()
    step2 = {n: p.detach().clone() for n, p in named}
    with torch.no_grad():
        _, loss = loss_of(model, inputs, targets)
    loss3 = loss.item()

    # Cross-checks.
    assert abs(loss1 - F.cross_entropy(tensors["logits"].reshape(-1, VOCAB), targets.reshape(-1)).item()) < 1e-12
    # The key part of each c_attn bias has a gradient that is exactly zero mathematically
    # (adding a constant to every key's score for one query leaves its softmax unchanged); in
    # float64 it is rounding noise (~1e-18). Every other entry must be clearly non-zero.
    for n in names:
        for g in (grads1[n], grads2[n]):
            if n.endswith("attn.c_attn.bias"):
                assert g[KEY_SLICE[0]:KEY_SLICE[1]].abs().max() < 1e-15, n
                g = torch.cat([g[:KEY_SLICE[0]], g[KEY_SLICE[1]:]])
            assert g.abs().min() > 1e-9, f"near-zero gradient entries in {n}"
    # The wte gradient includes the LM-head contribution (tied): check against an untied recompute.
    check_tied_grad(init, inputs, targets, grads1["wte.weight"])
    # An independent float64 AdamW (numpy) must reproduce PyTorch's steps.
    check_adamw(init, [grads1, grads2], [step1, step2], set(decay_names))
    assert loss2 < loss1 and loss3 < loss2, (loss1, loss2, loss3)

    for n in names:
        tensors[f"grad.{n}"] = grads1[n]
        tensors[f"step1.{n}"] = step1[n]
        tensors[f"grad2.{n}"] = grads2[n]
        tensors[f"step2.{n}"] = step2[n]
    tensors = {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert torch.isfinite(v).all(), k
    safetensors.torch.save_file(tensors, FIXTURES / "expected.safetensors",
                                metadata={"generator": "Scripts/make-training-fixtures.py"})

    f32_err = float32_torch_errors(init, inputs, targets, decay_names, {**tensors, "_loss": loss1})
    expected = {
        "B": B, "T": T, "vocab_size": VOCAB,
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "stream": stream.tolist(),
        "loss": loss1,
        "loss_step1": loss2,
        "loss_step2": loss3,
        "lr": LR, "betas": list(BETAS), "eps": EPS, "weight_decay": WEIGHT_DECAY,
        "decay_params": decay_names,
        "params": names,
        "zero_grad_slices": {n: list(KEY_SLICE) for n in names if n.endswith("attn.c_attn.bias")},
        "float32_torch_max_abs_err": f32_err,
        "seed": SEED,
        "torch": torch.__version__, "transformers": transformers.__version__,
        "safetensors": safetensors.__version__, "numpy": np.__version__,
    }
    with open(FIXTURES / "expected.json", "w") as f:
        # One top-level key per line, values compact (float64 values round-trip exactly).
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in expected.items()) + "\n}\n")

    print(f"loss {loss1!r}  after step 1 {loss2!r}  after step 2 {loss3!r}")
    print(f"params {len(names)}  ({sum(p.numel() for _, p in named)} values)")
    print("float32 PyTorch vs the float64 reference (max abs error, key-bias slices excluded):", f32_err)
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:9d}  {path.relative_to(REPO_ROOT)}")


def check_tied_grad(init, inputs, targets, wte_grad):
    """Untie: a separate LM-head matrix; its grad + the embedding's grad must equal the tied grad."""
    wte = init["wte.weight"].clone().requires_grad_(True)
    head = init["wte.weight"].clone().requires_grad_(True)
    m = make_model_from(init)
    # GPT2Model adds the position embeddings to inputs_embeds and builds the causal mask itself.
    h = m.transformer(inputs_embeds=F.embedding(inputs, wte), use_cache=False).last_hidden_state
    logits = h @ head.T
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    total = wte.grad + head.grad
    assert torch.allclose(total, wte_grad, rtol=1e-10, atol=1e-14), (total - wte_grad).abs().max()
    assert (head.grad - wte_grad).abs().max() > 1e-6, "embedding gradient unexpectedly zero"


def masked(name, t):
    """t without the key-bias slice of a c_attn bias (its gradient is identically zero)."""
    if name.split(".", 1)[1].endswith("attn.c_attn.bias"):
        return torch.cat([t[:KEY_SLICE[0]], t[KEY_SLICE[1]:]])
    return t


def float32_torch_errors(init, inputs, targets, decay_names, ref):
    """Rerun everything in float32 PyTorch and measure the distance to the float64 reference
    (rounded to float32 as stored): a realistic tolerance scale for a float32 implementation.
    The key-bias slices are excluded (their float32 gradient is noise, so the AdamW update there
    is arbitrary in [-lr, lr])."""
    m = make_model_from(init).float()
    named = [(short(n), p) for n, p in m.named_parameters()]
    decay_set = set(decay_names)
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in named if n in decay_set], "weight_decay": WEIGHT_DECAY},
         {"params": [p for n, p in named if n not in decay_set], "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=EPS, foreach=False, fused=False)
    err = {"loss": 0.0, "logits": 0.0, "grad": 0.0, "step1": 0.0, "grad2": 0.0, "step2": 0.0}
    for step in (1, 2):
        opt.zero_grad(set_to_none=True)
        logits, loss = loss_of(m, inputs, targets)
        loss.backward()
        if step == 1:
            err["logits"] = (logits.detach().double() - ref["logits"].double()).abs().max().item()
        g = "grad" if step == 1 else "grad2"
        for n, p in named:
            e = (masked(g + "." + n, p.grad.double()) - masked(g + "." + n, ref[f"{g}.{n}"].double())).abs().max().item()
            err[g] = max(err[g], e)
        opt.step()
        for n, p in named:
            k = f"step{step}.{n}"
            e = (masked(k, p.detach().double()) - masked(k, ref[k].double())).abs().max().item()
            err[f"step{step}"] = max(err[f"step{step}"], e)
    with torch.no_grad():
        _, loss = loss_of(make_model_from(init).float(), inputs, targets)
    err["loss"] = abs(loss.item() - ref["_loss"])
    return err


def make_model_from(state):
    torch.manual_seed(0)
    m = make_model().double()
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_(state[short(n)])
    return m


def check_adamw(init, grads, steps, decay_names):
    """PyTorch's AdamW, written out (float64):
        p  <- p * (1 - lr*wd)                       (decoupled decay, before the Adam update)
        m  <- b1*m + (1-b1)*g ;  v <- b2*v + (1-b2)*g^2
        p  <- p - (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
    """
    b1, b2 = BETAS
    for n, p0 in init.items():
        p = p0.numpy().copy()
        m = np.zeros_like(p)
        v = np.zeros_like(p)
        wd = WEIGHT_DECAY if n in decay_names else 0.0
        for t, (g_all, s_all) in enumerate(zip(grads, steps), start=1):
            g = g_all[n].numpy()
            p = p * (1 - LR * wd)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p = p - (LR / (1 - b1 ** t)) * m / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + EPS)
            err = np.abs(p - s_all[n].numpy()).max()
            assert err < 1e-15, (n, t, err)


if __name__ == "__main__":
    main()
