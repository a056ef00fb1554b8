#!/usr/bin/env python3
"""Generate the position-encoding gradient fixtures for the Swift `Training` tests.

Writes Tests/TrainingTests/Fixtures/positions/ (relative to the repository root, found from
this script's location), one folder per position encoding that has no weights of its own:

  sinusoidal/   the fixed sin/cos table of "Attention Is All You Need" added to the token embedding
  rope/         rotary embedding of the queries and keys (interleaved pairs), theta 10000

Each folder holds
  model.safetensors
        A tiny random attnchat GPT (vocab 67, ctx 16, d 32, 2 layers, 4 heads, head size 8,
        gelu_new, tied LM head), float32, in attnchat's own format: GPT-2 tensor names without
        `transformer.` (wte.weight, h.N.attn.c_attn.weight [in, out] with columns q|k|v, ...,
        ln_f.bias), no wpe, no lm_head; __metadata__ {"format": "attnchat-gpt",
        "format_version": "1", "config": <the config JSON as GPTModel.save writes it>}.
        Both folders hold the same weights (drawn once); only the config differs.
  expected.json
        The batch (int token ids), the float64 reference loss, the key-bias slices whose
        gradient is identically zero (sinusoidal only), the float32 PyTorch error scale, notes.
  expected.safetensors (all F32)
        logits              [B, T, V] logits of the batch
        grad.<name>         dLoss/dparam, for every parameter of model.safetensors

attnchat's GPT is written out here in plain PyTorch (transformers' GPT2 has neither encoding);
everything runs in float64, starting from the float32 weights exactly as saved, and the
sin/cos tables are computed in float64 (attnchat rounds its tables to float32: ~3e-8, far below
the tolerances). Before writing, the script checks its own reference (see check_* below):
with learned positions it reproduces transformers' GPT2LMHeadModel (logits and every
gradient); the sinusoidal model equals GPT2LMHeadModel with wpe set to the table; the table
matches the usual exp/log formulation; the rotation matches a complex-number implementation,
preserves norms and makes q·k depend only on the distance; the whole rope model is invariant
to shifting every position by the same offset; autograd agrees with central differences; the
tied wte gradient equals an untied recomputation; and the saved model file reads back
bit-exactly with the metadata attnchat's loader requires.

Usage: .venv/bin/python Scripts/make-position-fixtures.py   (create the venv with Scripts/setup-venv)
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
from safetensors import safe_open
from transformers import GPT2Config, GPT2LMHeadModel

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "TrainingTests" / "Fixtures" / "positions"

SEED = 4321
B, T = 3, 16
VOCAB, N_POSITIONS, N_EMBD, N_LAYER, N_HEAD = 67, 16, 32, 2, 4
N_INNER = 4 * N_EMBD
HEAD_SIZE = N_EMBD // N_HEAD
EPS = 1e-5
ROPE_THETA = 10000.0
ENCODINGS = ("sinusoidal", "rope")
KEY_SLICE = (N_EMBD, 2 * N_EMBD)  # c_attn.bias[32:64], the key bias
# The fields attnchat's loader accepts in the __metadata__ config (GPTModel+Loading.swift).
ALLOWED_CONFIG_FIELDS = {"vocab_size", "n_positions", "n_layer", "n_head", "n_embd", "n_inner",
                         "layer_norm_epsilon", "positional", "rope_theta"}


def layout(positional):
    """Parameter names and shapes in attnchat's storage order (GPTWeights.Layout)."""
    C, M = N_EMBD, N_INNER
    out = [("wte.weight", (VOCAB, C))]
    if positional == "learned":
        out.append(("wpe.weight", (N_POSITIONS, C)))
    for l in range(N_LAYER):
        p = f"h.{l}."
        out += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
                (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
                (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
                (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
                (p + "mlp.c_fc.weight", (C, M)), (p + "mlp.c_fc.bias", (M,)),
                (p + "mlp.c_proj.weight", (M, C)), (p + "mlp.c_proj.bias", (C,))]
    out += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    return out


def config_json(positional):
    """The config exactly as GPTModel.save writes it: compact, in GPTConfig.jsonObject's key
    order, rope_theta only for rope, numbers in Swift's shortest form (1e-05, 10000.0)."""
    config = {"vocab_size": VOCAB, "n_positions": N_POSITIONS, "n_layer": N_LAYER, "n_head": N_HEAD,
              "n_embd": N_EMBD, "n_inner": N_INNER, "layer_norm_epsilon": EPS, "positional": positional}
    if positional == "rope":
        config["rope_theta"] = ROPE_THETA
    return json.dumps(config, separators=(",", ":"))


def make_weights(gen):
    """float32 weights for the learned layout (wpe is only used by the self-checks), drawn so
    that every gradient is clearly non-zero: wte ~ 0.5·N(0,1), wpe and every other matrix
    ~ 0.2·N(0,1), LayerNorm weights 1 + 0.1·N(0,1), all biases 0.05·N(0,1)."""
    weights = {}
    for name, shape in layout("learned"):
        z = torch.randn(shape, generator=gen, dtype=torch.float32)
        if name == "wte.weight":
            w = 0.5 * z
        elif ".ln_" in name or name.startswith("ln_f"):
            w = 1.0 + 0.1 * z if name.endswith(".weight") else 0.05 * z
        elif name.endswith(".bias"):
            w = 0.05 * z
        else:
            w = 0.2 * z
        weights[name] = w.contiguous()
    return weights


# ---- The reference forward (float64 unless given float32) ----

def sinusoidal_table(n, C, dtype=torch.float64):
    """PE(pos, 2i) = sin(pos / 10000^(2i/C)), PE(pos, 2i+1) = cos(...), as Positions.swift
    (angle in float64; attnchat then rounds to float32, which dtype=float32 reproduces)."""
    table = np.zeros((n, C))
    for pos in range(n):
        for i in range(0, C, 2):
            angle = pos / 10000.0 ** (i / C)
            table[pos, i] = math.sin(angle)
            if i + 1 < C:
                table[pos, i + 1] = math.cos(angle)
    return torch.from_numpy(table).to(dtype)


def rotary_tables(n, hs, theta, dtype=torch.float64):
    """cos and sin of pos·theta^(-2i/hs), each (n, hs/2), as Positions.swift's rotaryTables."""
    angle = np.array([[pos * theta ** (-2.0 * i / hs) for i in range(hs // 2)] for pos in range(n)])
    return torch.from_numpy(np.cos(angle)).to(dtype), torch.from_numpy(np.sin(angle)).to(dtype)


def rotate(x, cos, sin, offset=0):
    """Rotary on x [..., T, hs]: each interleaved pair (x[2i], x[2i+1]) at position offset+t is
    rotated by +angle: (a cos − b sin, a sin + b cos)."""
    Tx = x.shape[-2]
    c, s = cos[offset:offset + Tx], sin[offset:offset + Tx]  # [T, hs/2]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased, as torch and attnchat
    return (x - mean) / torch.sqrt(var + EPS) * w + b


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(p, inputs, positional, offset=0, wte_head=None):
    """attnchat's GPT: logits [B, T, V]. positional: learned | sinusoidal | rope | none.
    offset shifts every position (a check of rope's relativity). wte_head: an untied LM head
    (a check of the tied gradient)."""
    dtype = p["wte.weight"].dtype
    Bx, Tx = inputs.shape
    C, H, hs = N_EMBD, N_HEAD, HEAD_SIZE
    x = p["wte.weight"][inputs]
    if positional == "learned":
        x = x + p["wpe.weight"][offset:offset + Tx]
    elif positional == "sinusoidal":
        x = x + sinusoidal_table(N_POSITIONS + offset, C, dtype)[offset:offset + Tx]
    if positional == "rope":
        cos, sin = rotary_tables(N_POSITIONS + offset, hs, ROPE_THETA, dtype)
    mask = torch.ones(Tx, Tx, dtype=torch.bool).tril()
    for l in range(N_LAYER):
        q_ = f"h.{l}."
        h = layer_norm(x, p[q_ + "ln_1.weight"], p[q_ + "ln_1.bias"])
        qkv = h @ p[q_ + "attn.c_attn.weight"] + p[q_ + "attn.c_attn.bias"]  # [B, T, 3C], q|k|v
        q, k, v = (t.reshape(Bx, Tx, H, hs).transpose(1, 2) for t in qkv.split(C, dim=-1))  # [B, H, T, hs]
        if positional == "rope":
            q, k = rotate(q, cos, sin, offset), rotate(k, cos, sin, offset)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        scores = scores.masked_fill(~mask, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).reshape(Bx, Tx, C)
        x = x + y @ p[q_ + "attn.c_proj.weight"] + p[q_ + "attn.c_proj.bias"]
        h = layer_norm(x, p[q_ + "ln_2.weight"], p[q_ + "ln_2.bias"])
        h = gelu_new(h @ p[q_ + "mlp.c_fc.weight"] + p[q_ + "mlp.c_fc.bias"])
        x = x + h @ p[q_ + "mlp.c_proj.weight"] + p[q_ + "mlp.c_proj.bias"]
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ (p["wte.weight"] if wte_head is None else wte_head).T


def cross_entropy(logits, targets):
    """Mean over all B·T positions of −log softmax(logits)[target] (natural log)."""
    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    return -logp.gather(-1, targets.unsqueeze(-1)).mean()


def leaves(weights, names, dtype=torch.float64):
    return {n: weights[n].to(dtype).clone().requires_grad_(True) for n in names}


def loss_and_grads(weights, names, inputs, targets, positional, dtype=torch.float64, offset=0):
    p = leaves(weights, names, dtype)
    logits = forward(p, inputs, positional, offset)
    loss = cross_entropy(logits, targets)
    loss.backward()
    return logits.detach(), loss.item(), {n: p[n].grad.detach().clone() for n in names}


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    weights = make_weights(gen)
    # The batch: a random token stream of B*T+1 tokens cut into B windows, like a data loader.
    stream = torch.randint(0, VOCAB, (B * T + 1,), generator=gen)
    inputs = torch.stack([stream[b * T: b * T + T] for b in range(B)])
    targets = torch.stack([stream[b * T + 1: b * T + T + 1] for b in range(B)])

    # Self-checks of the reference itself, before anything is written.
    check_learned_against_transformers(weights, inputs, targets)
    check_sinusoidal_table()
    check_sinusoidal_against_transformers(weights, inputs, targets)
    check_rotation()

    if FIXTURES.exists():
        shutil.rmtree(FIXTURES)
    FIXTURES.mkdir(parents=True)
    _, loss_none, _ = loss_and_grads(weights, [n for n, _ in layout("rope")], inputs, targets, "none")
    for positional in ENCODINGS:
        folder = FIXTURES / positional
        folder.mkdir()
        names = [n for n, _ in layout(positional)]
        logits, loss, grads = loss_and_grads(weights, names, inputs, targets, positional)
        assert abs(loss - F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1)).item()) < 1e-12
        # The encoding must matter, or the fixture would not test it.
        assert abs(loss - loss_none) > 1e-2, (positional, loss, loss_none)
        check_gradients_nonzero(positional, grads)
        check_tied_grad(weights, names, inputs, targets, positional, grads["wte.weight"])
        check_finite_differences(weights, names, inputs, targets, positional, grads, gen)
        if positional == "rope":
            check_rope_model(weights, names, inputs, targets, logits, loss)

        write_model(folder / "model.safetensors", weights, positional)
        tensors = {"logits": logits}
        for n in names:
            tensors[f"grad.{n}"] = grads[n]
        tensors = {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}
        for k, v in tensors.items():
            assert torch.isfinite(v).all(), k
        safetensors.torch.save_file(tensors, folder / "expected.safetensors",
                                    metadata={"generator": "Scripts/make-position-fixtures.py"})

        zero = {n: list(KEY_SLICE) for n in names if n.endswith("attn.c_attn.bias")} if positional != "rope" else {}
        f32_err = float32_torch_errors(weights, names, inputs, targets, positional, tensors, loss, zero)
        key_bias = {n: grads[n][KEY_SLICE[0]:KEY_SLICE[1]].abs().max().item()
                    for n in names if n.endswith("attn.c_attn.bias")}
        expected = {
            "positional": positional,
            "B": B, "T": T, "vocab_size": VOCAB,
            **({"rope_theta": ROPE_THETA} if positional == "rope" else {}),
            "inputs": inputs.tolist(),
            "targets": targets.tolist(),
            "stream": stream.tolist(),
            "loss": loss,
            "loss_without_positions": loss_none,
            "params": names,
            "zero_grad_slices": zero,
            "key_bias_grad_max_abs": key_bias,
            "float32_torch_max_abs_err": f32_err,
            "notes": NOTES[positional],
            "seed": SEED,
            "torch": torch.__version__, "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__,
        }
        with open(folder / "expected.json", "w") as f:
            # One top-level key per line, values compact (float64 values round-trip exactly).
            f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in expected.items()) + "\n}\n")
        print(f"{positional}: loss {loss!r} (without positions {loss_none!r}); key-bias |grad| max {key_bias}")
        print(f"  float32 PyTorch vs the float64 reference: {f32_err}")

    total = 0
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            path.chmod(0o644)  # safetensors writes 0600
            total += path.stat().st_size
            print(f"{path.stat().st_size:9d}  {path.relative_to(REPO_ROOT)}")
    print(f"{total:9d}  total")


NOTES = {
    "sinusoidal": (
        "attnchat GPT with positional = sinusoidal: no wpe; x0 = wte[token] + PE(t), PE(pos, 2i) = "
        "sin(pos / 10000^(2i/C)), PE(pos, 2i+1) = cos(pos / 10000^(2i/C)), C = n_embd = 32. Otherwise GPT-2: "
        "pre-norm LayerNorm (eps 1e-5), fused c_attn [in, out] with columns q|k|v, causal softmax(q·k/sqrt(hs)), "
        "gelu_new, tied LM head (logits = ln_f(x)·wteᵀ; the wte gradient includes the head's). loss = mean "
        "cross-entropy over all B·T positions. float64 reference from the float32 weights of model.safetensors. "
        "The key third of every c_attn.bias ([32, 64)) has a gradient that is identically zero (it adds the same "
        "q·b_k to every score of a query row); the reference there is rounding noise, so compare it with ~0."),
    "rope": (
        "attnchat GPT with positional = rope, rope_theta = 10000: no wpe, nothing added to the embedding; after "
        "c_attn (bias included), q and k of every head (hs = 8) are rotated on interleaved pairs (x[2i], x[2i+1]) "
        "by the angle pos·theta^(-2i/hs): (a cos − b sin, a sin + b cos); v is not rotated. Otherwise GPT-2 as in "
        "the sinusoidal fixture. The key bias gradient is NOT zero here: b_k contributes (R_t q_t)·(R_s b_k) = "
        "q_t·R_(s−t) b_k to score (t, s), which varies with s (every pair has a non-zero frequency), so softmax "
        "does not cancel it. It is smaller on the low-frequency pairs (angles of at most 15·10^-3 rad for the "
        "last pair)."),
}


# ---- Writing the model ----

def write_model(path, weights, positional):
    names = [n for n, _ in layout(positional)]
    config = config_json(positional)
    metadata = {"format": "attnchat-gpt", "format_version": "1", "config": config}
    path.write_bytes(attnchat_safetensors({n: weights[n] for n in names}, metadata))
    # Read back: exactly the loader's names and shapes, bit-exact float32, the metadata it needs.
    assert set(json.loads(config)) <= ALLOWED_CONFIG_FIELDS
    with safe_open(path, framework="pt") as f:
        assert f.metadata() == metadata, f.metadata()
        assert sorted(f.keys()) == sorted(names), f.keys()
        for n, shape in layout(positional):
            t = f.get_tensor(n)
            assert t.dtype == torch.float32 and tuple(t.shape) == shape, (n, t.dtype, t.shape)
            assert torch.equal(t, weights[n]), n


def attnchat_safetensors(tensors, metadata):
    """The bytes Swift's SafetensorsWriter writes (so the file is what GPTModel.save would
    write): compact JSON header, __metadata__ first with its keys sorted, then the tensors
    sorted by (dtype, name) with keys dtype, shape, data_offsets; padded with spaces to a
    multiple of 8. (safetensors.torch.save_file orders __metadata__'s keys differently from run
    to run, so it would not be byte-reproducible with three keys.)"""
    header = {"__metadata__": dict(sorted(metadata.items()))}
    data = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        assert t.dtype == torch.float32 and t.is_contiguous()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        data.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(data)


# ---- Self-checks ----

def hf_model(weights, wpe):
    config = GPT2Config(
        vocab_size=VOCAB, n_positions=N_POSITIONS, n_embd=N_EMBD, n_layer=N_LAYER, n_head=N_HEAD, n_inner=None,
        activation_function="gelu_new", layer_norm_epsilon=EPS,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1,
        tie_word_embeddings=True)
    torch.manual_seed(0)
    model = GPT2LMHeadModel._from_config(config, attn_implementation="eager").double().eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            short = n[len("transformer."):]
            p.copy_(wpe if short == "wpe.weight" else weights[short].double())
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "lm_head not tied"
    return model


def hf_loss_and_grads(model, inputs, targets):
    logits = model(inputs, use_cache=False).logits
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    grads = {n[len("transformer."):]: p.grad for n, p in model.named_parameters()}
    return logits.detach(), loss.item(), grads


def check_learned_against_transformers(weights, inputs, targets):
    """With learned positions this forward is GPT-2: it must reproduce GPT2LMHeadModel
    (float64, eager attention) on the same weights, logits and every gradient."""
    names = [n for n, _ in layout("learned")]
    logits, loss, grads = loss_and_grads(weights, names, inputs, targets, "learned")
    ref_logits, ref_loss, ref_grads = hf_loss_and_grads(hf_model(weights, weights["wpe.weight"].double()), inputs, targets)
    assert sorted(ref_grads) == sorted(names), sorted(ref_grads)
    assert (logits - ref_logits).abs().max() < 1e-12 and abs(loss - ref_loss) < 1e-13, (logits - ref_logits).abs().max()
    for n in names:
        assert (grads[n] - ref_grads[n]).abs().max() <= 1e-12 * max(1.0, ref_grads[n].abs().max().item()), n


def check_sinusoidal_table():
    """The table against the usual formulation (the Annotated Transformer's exp/log form)."""
    pos = torch.arange(N_POSITIONS, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, N_EMBD, 2, dtype=torch.float64) * (-math.log(10000.0) / N_EMBD))
    pe = torch.zeros(N_POSITIONS, N_EMBD, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    assert (pe - sinusoidal_table(N_POSITIONS, N_EMBD)).abs().max() < 1e-13
    assert torch.equal(sinusoidal_table(N_POSITIONS, N_EMBD)[0, 1::2], torch.ones(N_EMBD // 2, dtype=torch.float64))


def check_sinusoidal_against_transformers(weights, inputs, targets):
    """A fixed table added like wpe is GPT-2 with wpe = the table: same logits, same gradients
    (of everything but wpe)."""
    names = [n for n, _ in layout("sinusoidal")]
    logits, loss, grads = loss_and_grads(weights, names, inputs, targets, "sinusoidal")
    ref_logits, ref_loss, ref_grads = hf_loss_and_grads(hf_model(weights, sinusoidal_table(N_POSITIONS, N_EMBD)), inputs, targets)
    assert (logits - ref_logits).abs().max() < 1e-12 and abs(loss - ref_loss) < 1e-13, (logits - ref_logits).abs().max()
    for n in names:
        assert (grads[n] - ref_grads[n]).abs().max() <= 1e-12 * max(1.0, ref_grads[n].abs().max().item()), n


def check_rotation():
    """The rotation: equals multiplying the pairs, as complex numbers a + ib, by e^(i·angle)
    (LLaMA's formulation, independent of `rotate`); keeps norms; the identity at position 0;
    q·k after rotating q by m and k by n depends only on m − n."""
    g = torch.Generator().manual_seed(7)
    hs, n = HEAD_SIZE, N_POSITIONS
    cos, sin = rotary_tables(n, hs, ROPE_THETA)
    x = torch.randn(2, 3, n, hs, generator=g, dtype=torch.float64)
    freqs = torch.tensor([ROPE_THETA ** (-2.0 * i / hs) for i in range(hs // 2)], dtype=torch.float64)
    angles = torch.arange(n, dtype=torch.float64).unsqueeze(1) * freqs
    z = torch.view_as_complex(x.reshape(2, 3, n, hs // 2, 2).contiguous()) * torch.polar(torch.ones_like(angles), angles)
    assert (torch.view_as_real(z).flatten(-2) - rotate(x, cos, sin)).abs().max() < 1e-13
    assert (rotate(x, cos, sin).norm(dim=-1) - x.norm(dim=-1)).abs().max() < 1e-13
    assert torch.equal(rotate(x, cos, sin)[..., 0, :], x[..., 0, :])
    # Relative: the same q and k at every pair of positions (m, n); the score depends on m − n only.
    q = torch.randn(hs, generator=g, dtype=torch.float64).expand(n, hs)
    k = torch.randn(hs, generator=g, dtype=torch.float64).expand(n, hs)
    scores = rotate(q, cos, sin) @ rotate(k, cos, sin).T  # [m, n]
    for d in range(-(n - 1), n):
        diag = torch.diagonal(scores, offset=d)
        assert (diag - diag[0]).abs().max() < 1e-12, d
    assert (torch.diagonal(scores, 1)[0] - torch.diagonal(scores, 2)[0]).abs() > 1e-3  # and it does vary


def check_rope_model(weights, names, inputs, targets, logits, loss):
    """Model-level: rope carries no absolute position, so shifting every position by the same
    offset changes nothing (sinusoidal, checked for contrast, does change); position 0 is not
    rotated, so its logits are those of a model without positions."""
    for offset in (1, 5, 16):
        shifted, shifted_loss, _ = loss_and_grads(weights, names, inputs, targets, "rope", offset=offset)
        assert (shifted - logits).abs().max() < 1e-11 and abs(shifted_loss - loss) < 1e-12, offset
    sin_names = [n for n, _ in layout("sinusoidal")]
    a, _, _ = loss_and_grads(weights, sin_names, inputs, targets, "sinusoidal")
    b, _, _ = loss_and_grads(weights, sin_names, inputs, targets, "sinusoidal", offset=5)
    assert (a - b).abs().max() > 1e-2
    plain, _, _ = loss_and_grads(weights, names, inputs, targets, "none")
    assert (plain[:, 0] - logits[:, 0]).abs().max() < 1e-12
    assert (plain[:, 1:] - logits[:, 1:]).abs().max() > 1e-2


def check_gradients_nonzero(positional, grads):
    """Every gradient entry is clearly non-zero, except the key bias without rope, which is
    zero up to float64 rounding; with rope the key bias gradient is real."""
    for n, g in grads.items():
        if n.endswith("attn.c_attn.bias"):
            key = g[KEY_SLICE[0]:KEY_SLICE[1]]
            if positional == "rope":
                assert key.abs().max() > 1e-4 * g.abs().max(), (n, key.abs().max())
            else:
                assert key.abs().max() < 1e-15, (n, key.abs().max())
                g = torch.cat([g[:KEY_SLICE[0]], g[KEY_SLICE[1]:]])
        assert g.abs().min() > 1e-9, f"near-zero gradient entries in {n}: {g.abs().min()}"


def check_tied_grad(weights, names, inputs, targets, positional, wte_grad):
    """Untie: a separate LM-head matrix; its grad + the embedding's grad must equal the tied grad."""
    p = leaves(weights, names)
    head = weights["wte.weight"].double().clone().requires_grad_(True)
    cross_entropy(forward(p, inputs, positional, wte_head=head), targets).backward()
    total = p["wte.weight"].grad + head.grad
    assert torch.allclose(total, wte_grad, rtol=1e-10, atol=1e-14), (total - wte_grad).abs().max()
    assert (head.grad - wte_grad).abs().max() > 1e-6, "embedding gradient unexpectedly zero"


def check_finite_differences(weights, names, inputs, targets, positional, grads, gen, per_tensor=4, h=1e-5):
    """Autograd against central differences of the float64 loss, a few entries per tensor
    (always including one key-bias entry of each c_attn.bias)."""
    base = {n: weights[n].double() for n in names}
    worst = 0.0
    for n in names:
        count = base[n].numel()
        picks = torch.randint(0, count, (per_tensor,), generator=gen).tolist()
        if n.endswith("attn.c_attn.bias"):
            picks.append(KEY_SLICE[0] + HEAD_SIZE - 1)  # a low-frequency pair's key bias
        for i in picks:
            values = []
            for sign in (1, -1):
                p = dict(base)
                p[n] = base[n].clone().reshape(-1)
                p[n][i] += sign * h
                p[n] = p[n].reshape(base[n].shape)
                with torch.no_grad():
                    values.append(cross_entropy(forward(p, inputs, positional), targets).item())
            fd = (values[0] - values[1]) / (2 * h)
            err = abs(fd - grads[n].reshape(-1)[i].item())
            worst = max(worst, err)
            assert err < 1e-8, (positional, n, i, fd, grads[n].reshape(-1)[i].item())
    print(f"{positional}: autograd vs central differences, max abs difference {worst:.2e}")


def float32_torch_errors(weights, names, inputs, targets, positional, ref, ref_loss, zero):
    """The same forward and backward in float32 (tables rounded to float32, as attnchat has
    them): max |difference| from the stored reference — a realistic tolerance scale for a
    float32 implementation. grad_relative divides by each tensor's max |grad|. The zero key-bias
    slices are excluded, measured separately as key_bias_abs (the float32 noise there); where
    the key-bias gradient is real (rope), key_bias_relative is the error on that slice relative
    to the slice's own max |grad|."""
    logits, loss, grads = loss_and_grads(weights, names, inputs, targets, positional, dtype=torch.float32)
    err = {"loss": abs(loss - ref_loss),
           "logits": (logits.double() - ref["logits"].double()).abs().max().item(),
           "grad": 0.0, "grad_relative": 0.0}
    key = "key_bias_abs" if zero else "key_bias_relative"
    err[key] = 0.0
    lo, hi = KEY_SLICE
    for n in names:
        g, r = grads[n].double(), ref[f"grad.{n}"].double()
        if n.endswith("attn.c_attn.bias"):
            if n in zero:
                err[key] = max(err[key], g[lo:hi].abs().max().item())
                g, r = torch.cat([g[:lo], g[hi:]]), torch.cat([r[:lo], r[hi:]])
            else:
                e = (g[lo:hi] - r[lo:hi]).abs().max().item() / r[lo:hi].abs().max().item()
                err[key] = max(err[key], e)
        e = (g - r).abs().max().item()
        err["grad"] = max(err["grad"], e)
        err["grad_relative"] = max(err["grad_relative"], e / r.abs().max().item())
    return err


if __name__ == "__main__":
    main()
