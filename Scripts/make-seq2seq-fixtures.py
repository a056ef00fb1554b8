#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures for the Swift `Seq2Seq` tests.

Writes Tests/Seq2SeqTests/Fixtures/ (found from this script's location):

  <name>.json          the config, the batch (unpadded sources and targets, and the padded
                       arrays the Swift batch must equal) and the float64 loss
  <name>.safetensors   (all F32)
        weights.<tensor>   the weights, in attnchat's Seq2Seq names and layout (matrices (in, out))
        logits             [B, T, V] logits of the batch
        grad.<tensor>      dLoss/dparam

for <name> in `pre_sinusoidal` (pre-norm, sinusoidal positions, final norms) and
`post_learned` (the paper's post-norm, learned positions, no final norms).

The model is a small PyTorch module written here to mirror Sources/Seq2Seq exactly — the
shared embedding scaled by sqrt(C) plus positions; encoder blocks of bidirectional
self-attention with the source padding masked and a GELU (tanh) MLP; decoder blocks of
causal self-attention, cross-attention over the encoder output (queries from the decoder,
keys and values from one (C, 2C) projection of the memory, padded source keys masked) and
the MLP; the output projection is the embedding read backwards (tied, unscaled). Loss:
F.cross_entropy(label_smoothing=0.1, ignore_index=pad). No dropout.

All reference arithmetic runs in float64 from the float32 weights; results are rounded to
float32 only when written.

Usage: .venv/bin/python Scripts/make-seq2seq-fixtures.py
Deterministic: the same torch version gives byte-identical files.
"""

import json
import math
from pathlib import Path

import safetensors.torch
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "Tests" / "Seq2SeqTests" / "Fixtures"

V, MAXT, C, H, M, LE, LD = 19, 12, 16, 2, 32, 2, 2
PAD, BOS, EOS = 0, 1, 2
EPS = 1e-5
SMOOTHING = 0.1


def tensor_shapes(positional, norm):
    """(name, shape) in Seq2SeqWeights order."""
    shapes = [("embed.weight", [V, C])]
    if positional == "learned":
        shapes += [("encoder.wpe.weight", [MAXT, C]), ("decoder.wpe.weight", [MAXT, C])]

    def ln(n):
        return [(n + ".weight", [C]), (n + ".bias", [C])]

    def lin(n, i, o):
        return [(n + ".weight", [i, o]), (n + ".bias", [o])]

    for l in range(LE):
        p = f"encoder.{l}."
        shapes += ln(p + "ln_1") + lin(p + "attn.c_attn", C, 3 * C) + lin(p + "attn.c_proj", C, C)
        shapes += ln(p + "ln_2") + lin(p + "mlp.c_fc", C, M) + lin(p + "mlp.c_proj", M, C)
    if norm == "pre":
        shapes += ln("encoder.ln_f")
    for l in range(LD):
        p = f"decoder.{l}."
        shapes += ln(p + "ln_1") + lin(p + "attn.c_attn", C, 3 * C) + lin(p + "attn.c_proj", C, C)
        shapes += ln(p + "ln_2") + lin(p + "cross.c_q", C, C) + lin(p + "cross.c_kv", C, 2 * C) + lin(p + "cross.c_proj", C, C)
        shapes += ln(p + "ln_3") + lin(p + "mlp.c_fc", C, M) + lin(p + "mlp.c_proj", M, C)
    if norm == "pre":
        shapes += ln("decoder.ln_f")
    return shapes


def random_weights(shapes):
    w = {}
    for name, shape in shapes:
        if ".ln_" in name and name.endswith(".weight"):
            t = 1.0 + 0.1 * torch.randn(shape)
        elif name.endswith(".bias"):
            t = 0.05 * torch.randn(shape)
        elif name == "embed.weight":
            t = 0.25 * torch.randn(shape)
        else:
            t = 0.2 * torch.randn(shape)
        w[name] = t.float()
    return w


def sinusoids(n, width):
    table = torch.zeros(n, width, dtype=torch.float64)
    for pos in range(n):
        for i in range(0, width, 2):
            angle = pos / (10000 ** (i / width))
            table[pos, i] = math.sin(angle)
            if i + 1 < width:
                table[pos, i + 1] = math.cos(angle)
    # Swift's table is float32: round the same way.
    return table.float().double()


def layer_norm(x, w, p):
    return F.layer_norm(x, (C,), w[p + ".weight"], w[p + ".bias"], EPS)


def linear(x, w, p):
    return x @ w[p + ".weight"] + w[p + ".bias"]


def attention(q, k, v, mask):
    """q (B, Tq, C), k v (B, Tk, C), mask (B, Tq, Tk) True where hidden."""
    B, Tq, _ = q.shape
    Tk = k.shape[1]
    hs = C // H
    q = q.view(B, Tq, H, hs).transpose(1, 2)
    k = k.view(B, Tk, H, hs).transpose(1, 2)
    v = v.view(B, Tk, H, hs).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hs)
    scores = scores.masked_fill(mask[:, None], float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(1, 2).reshape(B, Tq, C)


def self_attention(x, w, p, mask):
    q, k, v = linear(x, w, p + "attn.c_attn").split(C, dim=-1)
    return linear(attention(q, k, v, mask), w, p + "attn.c_proj")


def sublayer(x, w, norm_name, norm, f):
    if norm == "pre":
        return x + f(layer_norm(x, w, norm_name))
    return layer_norm(x + f(x), w, norm_name)


def mlp(x, w, p):
    return linear(F.gelu(linear(x, w, p + "mlp.c_fc"), approximate="tanh"), w, p + "mlp.c_proj")


def forward(w, positional, norm, src, src_len, dec_in):
    B, S = src.shape
    T = dec_in.shape[1]
    scale = math.sqrt(C)
    if positional == "sinusoidal":
        table = sinusoids(MAXT, C)
        enc_pos, dec_pos = table[:S], table[:T]
    else:
        enc_pos, dec_pos = w["encoder.wpe.weight"][:S], w["decoder.wpe.weight"][:T]
    key_pad = torch.arange(S)[None, :] >= src_len[:, None]  # (B, S)
    x = scale * w["embed.weight"][src] + enc_pos
    enc_mask = key_pad[:, None, :].expand(B, S, S)
    for l in range(LE):
        p = f"encoder.{l}."

        x = sublayer(x, w, p + "ln_1", norm, lambda h, p=p: self_attention(h, w, p, enc_mask))
        x = sublayer(x, w, p + "ln_2", norm, lambda h, p=p: mlp(h, w, p))
    memory = layer_norm(x, w, "encoder.ln_f") if norm == "pre" else x

    y = scale * w["embed.weight"][dec_in] + dec_pos
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)[None].expand(B, T, T)
    cross_mask = key_pad[:, None, :].expand(B, T, S)
    for l in range(LD):
        p = f"decoder.{l}."

        def cross_attn(h, p=p):
            q = linear(h, w, p + "cross.c_q")
            k, v = linear(memory, w, p + "cross.c_kv").split(C, dim=-1)
            return linear(attention(q, k, v, cross_mask), w, p + "cross.c_proj")

        y = sublayer(y, w, p + "ln_1", norm, lambda h, p=p: self_attention(h, w, p, causal))
        y = sublayer(y, w, p + "ln_2", norm, cross_attn)
        y = sublayer(y, w, p + "ln_3", norm, lambda h, p=p: mlp(h, w, p))
    if norm == "pre":
        y = layer_norm(y, w, "decoder.ln_f")
    return y @ w["embed.weight"].T


def batch():
    sources = [[5, 9, 3, 17, 8, 11, 4], [6, 12, 7, 3], [18, 10, 4, 4, 13]]
    targets = [[14, 3, 16, 5, 9], [7, 15, 3], [11, 8, 6, 12, 10, 17]]
    S = max(map(len, sources))
    T = max(map(len, targets)) + 1
    pad = lambda xs, n: xs + [PAD] * (n - len(xs))
    return {
        "sources": sources, "targets": targets, "S": S, "T": T,
        "padded_sources": [pad(s, S) for s in sources],
        "source_lengths": [len(s) for s in sources],
        "decoder_inputs": [pad([BOS] + t, T) for t in targets],
        "labels": [pad(t + [EOS], T) for t in targets],
    }


def make(name, positional, norm, seed):
    torch.manual_seed(seed)
    shapes = tensor_shapes(positional, norm)
    weights32 = random_weights(shapes)
    w = {n: t.double().requires_grad_(True) for n, t in weights32.items()}
    b = batch()
    src = torch.tensor(b["padded_sources"])
    src_len = torch.tensor(b["source_lengths"])
    dec_in = torch.tensor(b["decoder_inputs"])
    labels = torch.tensor(b["labels"])
    logits = forward(w, positional, norm, src, src_len, dec_in)
    loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), label_smoothing=SMOOTHING, ignore_index=PAD)
    loss.backward()
    tensors = {"logits": logits.detach().float().contiguous()}
    for n, _ in shapes:
        tensors["weights." + n] = weights32[n].contiguous()
        tensors["grad." + n] = w[n].grad.float().contiguous()
    safetensors.torch.save_file(tensors, FIXTURES / f"{name}.safetensors")
    config = {"vocab": V, "context": MAXT, "width": C, "heads": H, "mlp": M, "encoder_layers": LE, "decoder_layers": LD,
              "norm": norm, "positional": positional, "epsilon": EPS, "smoothing": SMOOTHING,
              "pad": PAD, "bos": BOS, "eos": EOS}
    with open(FIXTURES / f"{name}.json", "w") as f:
        json.dump({"config": config, "batch": b, "loss": loss.item(), "tensors": [n for n, _ in shapes]}, f, indent=1)
        f.write("\n")


def main():
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make("pre_sinusoidal", "sinusoidal", "pre", 2024)
    make("post_learned", "learned", "post", 2025)


if __name__ == "__main__":
    main()
