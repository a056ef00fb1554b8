#!/usr/bin/env python3
"""PyTorch CPU peer for attnchat's training benchmark.

A random GPT-2 (transformers GPT2LMHeadModel, float32, dropout 0) of the given shape, trained on
random tokens with torch.optim.AdamW (betas 0.9/0.95, weight decay 0.1): one step is
zero_grad + forward + cross-entropy + backward + step, at batch x context tokens. Prints the best
step time of --repeats runs of --steps steps after a warm-up, as tokens/s.

Example:  .venv/bin/python Scripts/bench_train_torch.py --layers 4 --heads 4 --embd 256 \\
              --vocab 4096 --ctx 256 --batch 16 --threads 2 --json
"""
import argparse
import json
import time

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ["layers", "heads", "embd", "vocab", "ctx", "batch"]:
        p.add_argument("--" + name, type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    config = GPT2Config(vocab_size=a.vocab, n_positions=a.ctx, n_embd=a.embd, n_layer=a.layers, n_head=a.heads,
                        resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, activation_function="gelu_new")
    model = GPT2LMHeadModel(config).train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    data = torch.randint(0, a.vocab, (a.batch, a.ctx + 1))
    x, y = data[:, :-1], data[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, a.vocab), y.reshape(-1))
        loss.backward()
        opt.step()

    step()
    best = float("inf")
    for _ in range(a.repeats):
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        best = min(best, (time.perf_counter() - start) / a.steps)
    result = {"train_tokens_per_s": a.batch * a.ctx / best, "step_seconds": best, "threads": a.threads,
              "torch": torch.__version__, "transformers": transformers.__version__}
    print(json.dumps(result) if a.json else f"torch: {result['train_tokens_per_s']:.0f} tokens/s ({best:.3f} s/step)")


if __name__ == "__main__":
    main()
