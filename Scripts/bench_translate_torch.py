#!/usr/bin/env python3
"""PyTorch CPU peer for attnchat's encoder–decoder (translation) benchmarks.

--train: tokens/s of the issue's reference recipe — pre-norm nn.Transformer (batch_first,
norm_first), d 256, 4 heads, 3 + 3 layers, MLP 1024 (GELU, tanh form as attnchat's), dropout 0.1,
sinusoidal positions, the shared embedding scaled by sqrt(d) and tied with the output, label
smoothing 0.1, AdamW (betas 0.9/0.98, lr 7e-4, weight decay 0.01 on matrices and the embedding),
gradient clip 1.0 — on exactly the batches `attnchat train --task translate` draws: the
training split of the TSV, tokenized with the shared byte-level BPE, bucketed under a budget of
~6,000 padded source + target positions and visited in the seeded order of
Sources/Training/TranslationData.swift (`TranslationBatches`, seed 1 by default). After --warmup
updates (batches 0..W-1), --steps updates (batches W..W+N-1) are timed. tokens/s counts what
attnchat's progress line counts: source + target tokens of each pair, BOS, EOS and padding not
counted (`TranslationTokens.tokenCount`); the JSON also gives the padded positions per second.
attnchat's translation trainer has no dropout yet: --dropout 0 times the arithmetic it does.

--translate MODEL: loads an attnchat-seq2seq safetensors file into a PyTorch mirror of attnchat's
model (Scripts/make-seq2seq-fixtures.py's, in float32, with a KV cache; it reproduces the logits
of Tests/Seq2SeqTests/Fixtures to 1e-6) and does what
`attnchat eval` does on the test split: the teacher-forced loss of every test pair, then greedy
decoding of every distinct English test sentence (64 at a time, sorted by length, at most
2 x the batch's longest source + 10 tokens, stopping at EOS, never proposing padding or BOS)
and sacreBLEU's corpus BLEU with every Spanish translation of a sentence as a reference.
Reports the seconds of the whole evaluation (after the model is loaded) and of the greedy
decoding alone.

Examples:
    .venv/bin/python Scripts/bench_translate_torch.py --train --vocab runs/mt-3ep \\
        --data data/tatoeba/spa.tsv --steps 20 --threads 2 --json
    .venv/bin/python Scripts/bench_translate_torch.py --translate runs/mt-3ep/model.safetensors \\
        --vocab runs/mt-3ep --data data/tatoeba/spa.tsv --threads 2 --json
"""
import argparse
import json
import math
import os
import time
import warnings

import sacrebleu
import safetensors
import torch
import torch.nn.functional as F
from tokenizers import ByteLevelBPETokenizer

PAD, BOS, EOS = 0, 1, 2
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>"]
MASK64 = (1 << 64) - 1


# --- data, as Sources/Translation and Sources/Training/TranslationData.swift read it ---------

def read_pairs(path):
    """(source, target) of every non-empty line of a source<TAB>target<TAB>attribution TSV.

    Split on bytes as TranslationCorpus does: str.splitlines() would also break at U+2028 and
    the like, which can occur inside a sentence."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    pairs = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            continue
        columns = line.split(b"\t")
        if len(columns) != 3 or not all(columns):
            raise SystemExit(f"{path}:{number}: expected 3 non-empty tab-separated columns")
        pairs.append((columns[0].decode("utf-8"), columns[1].decode("utf-8")))
    return pairs


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def split(pairs):
    """TranslationSplit: FNV-1a 64 of the English UTF-8 bytes mod 50 — 0 test, 1 validation."""
    sides = {"train": [], "validation": [], "test": []}
    for pair in pairs:
        r = fnv1a64(pair[0].encode()) % 50
        sides["test" if r == 0 else "validation" if r == 1 else "train"].append(pair)
    return sides


def reference_groups(pairs):
    """ReferenceGroup.grouping: one (source, [targets]) per distinct source, in order of first
    appearance; sources compared by their UTF-8 bytes (Python's == on str compares code
    points, the same thing)."""
    groups = {}
    for source, target in pairs:
        groups.setdefault(source, []).append(target)
    return list(groups.items())


def load_tokenizer(vocab_dir):
    tok = ByteLevelBPETokenizer(os.path.join(vocab_dir, "vocab.json"), os.path.join(vocab_dir, "merges.txt"))
    for i, text in enumerate(SPECIAL_TOKENS):
        if tok.token_to_id(text) != i:
            raise SystemExit(f"{vocab_dir}: a translation vocabulary needs {text} at id {i}")
    return tok


def encode(tok, texts):
    return [e.ids for e in tok.encode_batch(texts)]


def fitting(sources, targets, context):
    """TranslationTokens.encoding's filter: a non-empty source of at most the context, a
    target + EOS of at most the context."""
    kept = [(s, t) for s, t in zip(sources, targets) if s and len(s) <= context and len(t) + 1 <= context]
    return [s for s, _ in kept], [t for _, t in kept], len(sources) - len(kept)


def mix(a, b, c):
    """TokenWindows.mix (SplitMix64's finaliser over three inputs), in wrapping UInt64."""
    z = (a * 0x9E3779B97F4A7C15) & MASK64
    z ^= (((b + 0x632BE59BD9B4E019) & MASK64) * 0xBF58476D1CE4E5B9) & MASK64
    z ^= (c * 0x94D049BB133111EB) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def bucket(sources, targets, budget, seed):
    """TranslationBatches: pairs sorted by (source, target) length, ties in a seeded order, cut
    greedily so that each batch's padded B·(S + T) stays within the budget (T counts BOS/EOS)."""
    n = len(sources)
    order = sorted(range(n), key=lambda i: (len(sources[i]), len(targets[i]), mix(seed, 0xB0C4, i), i))
    batches, current, S, T = [], [], 0, 0
    for i in order:
        s, t = max(S, len(sources[i])), max(T, len(targets[i]) + 1)
        if current and (len(current) + 1) * (s + t) > budget:
            batches.append(current)
            current, S, T = [], 0, 0
        current.append(i)
        S, T = max(S, len(sources[i])), max(T, len(targets[i]) + 1)
    if current:
        batches.append(current)
    return batches


def batch_at(batches, seed, step):
    """TranslationBatches.batch(step:): batch step % count of a Fisher–Yates order seeded by
    (seed, epoch)."""
    epoch = step // len(batches)
    order = list(range(len(batches)))
    for i in range(len(order) - 1, 0, -1):
        j = mix(seed, epoch, i) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return batches[order[step % len(batches)]]


def padded(sequences, length, before=(), after=()):
    rows = [list(before) + list(x) + list(after) for x in sequences]
    return torch.tensor([r + [PAD] * (length - len(r)) for r in rows], dtype=torch.long)


def teacher_forcing(sources, targets):
    """Seq2SeqBatch: sources padded to the longest; decoder inputs BOS + target and labels
    target + EOS, padded to the longest target + 1."""
    S, T = max(map(len, sources)), max(map(len, targets)) + 1
    return padded(sources, S), padded(targets, T, before=[BOS]), padded(targets, T, after=[EOS])


def sinusoids(n, width):
    """Sources/Kernels/Positions.swift's table: computed in float64, stored as float32."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(0, width, 2, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, i / width)
    table = torch.zeros(n, width, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(angle), torch.cos(angle[:, : width // 2])
    return table.float()


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


# --- training -----------------------------------------------------------------------------

class ReferenceTransformer(torch.nn.Module):
    """The reference recipe on torch.nn.Transformer (which has the final encoder and decoder
    norms of a pre-norm model)."""

    def __init__(self, vocab, width, heads, layers, mlp, dropout, context):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        torch.nn.init.normal_(self.embed.weight, std=width ** -0.5)
        self.register_buffer("positions", sinusoids(context, width))
        self.scale = math.sqrt(width)
        self.drop = torch.nn.Dropout(dropout)
        # nn.Transformer asks for nested tensors, which its pre-norm encoder cannot use; harmless.
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        self.transformer = torch.nn.Transformer(
            width, heads, layers, layers, mlp, dropout, activation=gelu_tanh, batch_first=True, norm_first=True)

    def forward(self, src, dec_in):
        S, T = src.shape[1], dec_in.shape[1]
        x = self.drop(self.scale * self.embed(src) + self.positions[:S])
        y = self.drop(self.scale * self.embed(dec_in) + self.positions[:T])
        causal = torch.nn.Transformer.generate_square_subsequent_mask(T)
        # Padded target positions need no key mask: the causal mask hides them from every real
        # position, and their own rows leave the loss (as in attnchat's decoder).
        pad = src == PAD
        h = self.transformer(x, y, tgt_mask=causal, tgt_is_causal=True, src_key_padding_mask=pad,
                             memory_key_padding_mask=pad)
        return h @ self.embed.weight.T


def train_bench(a):
    torch.manual_seed(a.seed)
    tok = load_tokenizer(a.vocab)
    train_pairs = split(read_pairs(a.data))["train"]
    sources, targets, dropped = fitting(encode(tok, [p[0] for p in train_pairs]), encode(tok, [p[1] for p in train_pairs]),
                                        a.context)
    batches = bucket(sources, targets, a.batch_tokens, a.seed)
    steps = range(a.warmup + a.steps)
    indices = [batch_at(batches, a.seed, s) for s in steps]
    step_tokens = [sum(len(sources[i]) + len(targets[i]) for i in b) for b in indices]
    tensors = [teacher_forcing([sources[i] for i in b], [targets[i] for i in b]) for b in indices]

    vocab = tok.get_vocab_size()
    model = ReferenceTransformer(vocab, a.width, a.heads, a.layers, 4 * a.width, a.dropout, a.context).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=7e-4, betas=(0.9, 0.98), eps=1e-8)
    losses = []

    def step(src, dec_in, labels):
        opt.zero_grad(set_to_none=True)
        logits = model(src, dec_in)
        loss = F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=PAD, label_smoothing=0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())

    for t in tensors[: a.warmup]:
        step(*t)
    start = time.perf_counter()
    for t in tensors[a.warmup:]:
        step(*t)
    seconds = time.perf_counter() - start
    timed = tensors[a.warmup:]
    tokens = sum(step_tokens[a.warmup:])
    positions = sum(s.numel() + d.numel() for s, d, _ in timed)
    return {
        "train_tokens_per_s": tokens / seconds, "token_count": "source + target tokens, BOS/EOS/padding not counted",
        "padded_positions_per_s": positions / seconds, "seconds": seconds, "steps": a.steps, "warmup": a.warmup,
        "step_tokens": step_tokens, "first_loss": losses[0], "last_loss": losses[-1],
        "train_pairs": len(sources), "train_tokens": sum(map(len, sources)) + sum(map(len, targets)), "left_out": dropped,
        "batches_per_epoch": len(batches), "batch_tokens": a.batch_tokens, "seed": a.seed, "dropout": a.dropout,
        "vocab": vocab, "threads": a.threads, "torch": torch.__version__,
    }


# --- translation --------------------------------------------------------------------------

class AttnchatSeq2Seq:
    """attnchat's encoder–decoder (Sources/Seq2Seq) over its own tensors: matrices stored
    (in, out) are used as they are (x @ W + b), so no weight is copied or transposed.
    Pre- or post-norm; learned or sinusoidal positions (attnchat's rope option is not mirrored)."""

    def __init__(self, path):
        with safetensors.safe_open(path, "pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != "attnchat-seq2seq":
                raise SystemExit(f"{path}: not an attnchat-seq2seq file (format {meta.get('format')})")
            self.w = {name: f.get_tensor(name).float() for name in f.keys()}
        c = json.loads(meta["config"])
        self.config = c
        # A model trained es -> en says so; the split is still decided by the English side.
        self.source = meta.get("source", "en")
        if c["positional"] not in ("sinusoidal", "learned"):
            raise SystemExit(f"{path}: {c['positional']} positions are not mirrored here")
        self.C, self.H, self.eps, self.pre = c["width"], c["heads"], c["epsilon"], c["norm"] == "pre"
        self.context, self.vocab = c["context_length"], c["vocab_size"]
        self.pad, self.bos, self.eos = c["padding_id"], c["begin_id"], c["end_id"]
        self.encoder_layers, self.decoder_layers = c["encoder_layers"], c["decoder_layers"]
        table = sinusoids(self.context, self.C) if c["positional"] == "sinusoidal" else None
        self.enc_pos = table if table is not None else self.w["encoder.wpe.weight"]
        self.dec_pos = table if table is not None else self.w["decoder.wpe.weight"]
        self.embed = self.w["embed.weight"]
        self.head = self.embed.T.contiguous()
        self.scale = math.sqrt(self.C)

    def linear(self, x, name):
        return torch.addmm(self.w[name + ".bias"], x.reshape(-1, x.shape[-1]), self.w[name + ".weight"]).view(*x.shape[:-1], -1)

    def norm(self, x, name):
        return F.layer_norm(x, (self.C,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def heads(self, x):
        """(B, T, C) -> (B, H, T, hs)."""
        B, T, _ = x.shape
        return x.view(B, T, self.H, self.C // self.H).transpose(1, 2)

    def merge(self, x):
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.C)

    def sublayer(self, x, norm, f):
        return x + f(self.norm(x, norm)) if self.pre else self.norm(x + f(x), norm)

    def mlp(self, x, p):
        return self.linear(gelu_tanh(self.linear(x, p + "mlp.c_fc")), p + "mlp.c_proj")

    def encode(self, src):
        """Memory (B, S, C) and the key mask (B, 1, 1, S), True where a source token is."""
        keep = (src != self.pad)[:, None, None, :]
        x = self.scale * self.embed[src] + self.enc_pos[: src.shape[1]]
        for l in range(self.encoder_layers):
            p = f"encoder.{l}."

            def attend(h, p=p):
                q, k, v = self.linear(h, p + "attn.c_attn").split(self.C, dim=-1)
                out = F.scaled_dot_product_attention(self.heads(q), self.heads(k), self.heads(v), attn_mask=keep)
                return self.linear(self.merge(out), p + "attn.c_proj")

            x = self.sublayer(x, p + "ln_1", attend)
            x = self.sublayer(x, p + "ln_2", lambda h, p=p: self.mlp(h, p))
        return (self.norm(x, "encoder.ln_f") if self.pre else x), keep

    def cross_keys_values(self, memory):
        """Every decoder layer's cross-attention keys and values, computed once per batch."""
        kv = []
        for l in range(self.decoder_layers):
            k, v = self.linear(memory, f"decoder.{l}.cross.c_kv").split(self.C, dim=-1)
            kv.append((self.heads(k), self.heads(v)))
        return kv

    def decode(self, y, cross, keep, cache=None, start=0):
        """The decoder over token ids y (B, T) at positions start..start+T-1 -> logits (B, T, V). With a
        cache (per layer [keys, values] of (B, H, maxT, hs)), the new keys and values are
        written at those positions and attention reads the prefix; without one, T positions
        attend causally among themselves (teacher forcing)."""
        T = y.shape[1]
        y = self.scale * self.embed[y] + self.dec_pos[start:start + T]
        for l in range(self.decoder_layers):
            p = f"decoder.{l}."

            def attend(h, l=l, p=p):
                q, k, v = (self.heads(t) for t in self.linear(h, p + "attn.c_attn").split(self.C, dim=-1))
                if cache is None:
                    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                else:
                    keys, values = cache[l]
                    keys[:, :, start:start + T] = k
                    values[:, :, start:start + T] = v
                    # One new query sees every cached position: no mask needed.
                    out = F.scaled_dot_product_attention(q, keys[:, :, :start + T], values[:, :, :start + T])
                return self.linear(self.merge(out), p + "attn.c_proj")

            def cross_attend(h, l=l, p=p):
                q = self.heads(self.linear(h, p + "cross.c_q"))
                out = F.scaled_dot_product_attention(q, *cross[l], attn_mask=keep)
                return self.linear(self.merge(out), p + "cross.c_proj")

            y = self.sublayer(y, p + "ln_1", attend)
            y = self.sublayer(y, p + "ln_2", cross_attend)
            y = self.sublayer(y, p + "ln_3", lambda h, p=p: self.mlp(h, p))
        if self.pre:
            y = self.norm(y, "decoder.ln_f")
        return y @ self.head

    def greedy(self, sources, max_length):
        """Model.greedy: every sentence takes its most likely token (never padding or BOS; the
        first on ties, as torch.argmax) until EOS or max_length tokens (EOS not counted). Every
        row runs until the last one finishes, as attnchat's do."""
        src = padded(sources, max(map(len, sources)))
        memory, keep = self.encode(src)
        cross = self.cross_keys_values(memory)
        B, hs = len(sources), self.C // self.H
        cache = [[torch.empty(B, self.H, max_length, hs) for _ in range(2)] for _ in range(self.decoder_layers)]
        banned = torch.zeros(self.vocab, dtype=torch.bool)
        banned[[self.pad, self.bos]] = True
        tokens = torch.full((B, 1), self.bos, dtype=torch.long)
        finished = torch.zeros(B, dtype=torch.bool)
        outputs = []
        for step in range(max_length):
            logits = self.decode(tokens, cross, keep, cache, start=step)[:, -1]
            tokens = logits.masked_fill(banned, float("-inf")).argmax(dim=-1, keepdim=True)
            outputs.append(torch.where(finished, self.eos, tokens[:, 0]))
            finished |= tokens[:, 0] == self.eos
            if finished.all():
                break
        out = torch.stack(outputs, dim=1).tolist()
        return [row[: row.index(self.eos)] if self.eos in row else row for row in out]

    def loss(self, sources, targets, budget):
        """TranslationEvaluation.loss: plain cross-entropy summed over every label (target +
        EOS), in batches of the training budget."""
        total, count = 0.0, 0
        for b in bucket(sources, targets, budget, 0):
            src, dec_in, labels = teacher_forcing([sources[i] for i in b], [targets[i] for i in b])
            memory, keep = self.encode(src)
            logits = self.decode(dec_in, self.cross_keys_values(memory), keep)
            total += F.cross_entropy(logits.reshape(-1, self.vocab), labels.reshape(-1), ignore_index=self.pad,
                                     reduction="sum").item()
            count += int((labels != self.pad).sum())
        return total, count


def translate_bench(a):
    model = AttnchatSeq2Seq(a.translate)
    tok = load_tokenizer(a.vocab)
    with torch.inference_mode():
        start = time.perf_counter()
        test = split(read_pairs(a.data))["test"]
        if model.source == "es":
            test = [(target, source) for source, target in test]
        groups = reference_groups(test)
        if a.limit:
            groups = groups[: a.limit]
            kept = {source for source, _ in groups}
            test = [p for p in test if p[0] in kept]
        # The loss, as attnchat eval measures it first.
        sources, targets, dropped = fitting(encode(tok, [p[0] for p in test]), encode(tok, [p[1] for p in test]),
                                            model.context)
        loss_start = time.perf_counter()
        nats, labels = model.loss(sources, targets, a.batch_tokens)
        loss_seconds = time.perf_counter() - loss_start
        # TranslationEvaluation.bleu: an empty source becomes [EOS]; a long one is cut to the context.
        ids = [s[: model.context] if s else [model.eos] for s in encode(tok, [g[0] for g in groups])]
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        hypotheses = [None] * len(ids)
        decode_start = time.perf_counter()
        for at in range(0, len(order), a.batch):
            chunk = order[at:at + a.batch]
            longest = max(len(ids[i]) for i in chunk)
            for i, out in zip(chunk, model.greedy([ids[i] for i in chunk], min(model.context, 2 * longest + 10))):
                hypotheses[i] = out
        decode_seconds = time.perf_counter() - decode_start
        texts = tok.decode_batch(hypotheses, skip_special_tokens=False)
        # sacreBLEU takes reference streams: stream k holds each segment's k-th reference, None
        # where a segment has fewer.
        width = max(len(refs) for _, refs in groups)
        streams = [[refs[k] if k < len(refs) else None for _, refs in groups] for k in range(width)]
        bleu = sacrebleu.corpus_bleu(texts, streams)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds, "decode_seconds": decode_seconds, "loss_seconds": loss_seconds,
        "sentences": len(groups), "pairs": len(sources), "pairs_left_out": dropped, "tokens": labels,
        "nats_per_token": nats / max(labels, 1), "bleu": bleu.score, "brevity_penalty": bleu.bp,
        "hypothesis_tokens": sum(map(len, hypotheses)), "decoding": "greedy", "batch": a.batch,
        "threads": a.threads, "torch": torch.__version__, "sacrebleu": sacrebleu.__version__,
        **({"hypotheses": texts} if a.hypotheses else {}),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--train", action="store_true", help="time training updates of the reference recipe")
    mode.add_argument("--translate", metavar="MODEL", help="an attnchat-seq2seq .safetensors: evaluate it on the test split")
    p.add_argument("--vocab", required=True, help="directory of vocab.json + merges.txt (ids 0-2: <pad> <s> </s>)")
    p.add_argument("--data", required=True, help="source<TAB>target<TAB>attribution TSV (data/tatoeba/spa.tsv)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-tokens", type=int, default=6000, help="padded source + target positions per batch")
    p.add_argument("--json", action="store_true")
    t = p.add_argument_group("--train")
    t.add_argument("--steps", type=int, default=20, help="timed updates")
    t.add_argument("--warmup", type=int, default=2, help="untimed updates first")
    t.add_argument("--seed", type=int, default=1, help="the batches' seed (attnchat train --seed, default 1)")
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--width", type=int, default=256)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--layers", type=int, default=3, help="encoder and decoder layers each")
    t.add_argument("--context", type=int, default=128, help="longest source and BOS + target (attnchat's default 128)")
    d = p.add_argument_group("--translate")
    d.add_argument("--batch", type=int, default=64, help="sentences decoded together")
    d.add_argument("--limit", type=int, help="only the first N distinct test sentences (for development)")
    d.add_argument("--hypotheses", action="store_true", help="include the translations in the JSON")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    # tokenizers' batch encoding runs on a Rayon pool, by default one thread per core: keep it
    # to the threads asked for (read when the pool starts, at the first encode_batch).
    os.environ.setdefault("RAYON_NUM_THREADS", str(a.threads))
    if a.train:
        r = train_bench(a)
        text = (f"torch: {r['train_tokens_per_s']:.0f} tokens/s ({r['seconds'] / a.steps:.3f} s/update, "
                f"{r['padded_positions_per_s']:.0f} padded positions/s)")
    else:
        r = translate_bench(a)
        text = (f"torch: {r['sentences']} sentences, BLEU {r['bleu']:.2f}, {r['nats_per_token']:.4f} nats/token; "
                f"{r['seconds']:.1f} s ({r['decode_seconds']:.1f} s greedy decoding)")
    print(json.dumps(r) if a.json else text)


if __name__ == "__main__":
    main()
