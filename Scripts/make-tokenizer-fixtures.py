#!/usr/bin/env python3
"""Makes and checks the tokenizer fixtures with Hugging Face `tokenizers`.

Usage:  python Scripts/make-tokenizer-fixtures.py            # needs `pip install tokenizers`
        (run `swift run tokcli tokenizer train ...` first for the attnchat direction, see below)

Writes into Tests/TokenizerTests/Fixtures/:
  train.txt                 a fixed training text (generated here, deterministic)
  hf/                       vocab.json, merges.txt, tokenizer.json that `tokenizers` trains on it
  hf-expected.json          for each tricky string: the pre-tokenizer pieces and the ids `tokenizers` gives
And the other direction, when attnchat/ exists (attnchat's own training on train.txt, made with
  tokcli tokenizer train --vocab-size 500 --special '<|endoftext|>' --special '<|user|>' \
      --special '<|bot|>' --output Tests/TokenizerTests/Fixtures/attnchat Tests/TokenizerTests/Fixtures/train.txt):
  attnchat-expected.json    ids `tokenizers` gives with attnchat's files (the Swift test checks attnchat
                            gives the same); the script also reports whether the files are identical.
And, when data/gpt2/ exists (Scripts/fetch-gpt2-vocab):
  gpt2-expected.json        ids `tokenizers` gives with GPT-2's own vocab.json + merges.txt.
And, when Vocab/ and data/chitchat/dataset.json exist:
  vocab-validation.json     1,000 validation-split messages and the ids `tokenizers` gives with Vocab/.
"""
import json
import os
import random
import sys

from tokenizers import ByteLevelBPETokenizer, Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")
SPECIALS = ["<|endoftext|>", "<|user|>", "<|bot|>"]

TRICKY = [
    "",
    "Hello world",
    "Hello world!  How are you?",
    "I'm fine, you're great, we've been, they'll go, he'd say, it's, don't",
    "I'M SHOUTING 'S 'T 'RE",
    "'s'll 'd'",
    "naïve café résumé façade Ångström",
    "e\u0301 combining acute, a\u0308\u0301 two marks",
    "日本語のテキストと中文字符",
    "한국어 텍스트",
    "Привет, мир! Ελληνικά",
    "مرحبا بالعالم",
    "👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸",
    "emoji👍🏽glued",
    "1234567890 3.14159 1,000,000 ½ ² ٣",
    "tabs\tand\t\ttabs",
    "spaces   between    words     ",
    "trailing newline\n",
    "\n\n\nleading newlines",
    "mixed \t\n whitespace \r\n runs",
    "   ",
    "\u00a0non-breaking\u00a0spaces\u2009thin\u3000ideographic",
    "line\u2028separator\u0085next",
    "zero\u200bwidth\ufeffbom",
    "<|endoftext|> in user text <|user|> and <|bot|>",
    "hello<|endoftext|>world",
    "code: if (x == 1) { return y->z; } // done",
    "mixEd ScRiPts: abcабвαβγ日本123",
    "URL https://example.com/path?q=1&r=2#frag",
    "email someone@example.org",
    "!!!??? ... --- ___ *** ~~~",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\x00\x01\x1f\x7f control",
]


def training_text():
    """About 60 KB of text with English, accents, CJK, emoji, digits and whitespace runs."""
    rng = random.Random(1234)
    words = ("the quick brown fox jumps over lazy dog hello world how are you doing today "
             "i'm fine thanks what's up we've been there they'll come back don't know "
             "café naïve résumé über straße 日本 東京 中文 한국 привет мир γειά "
             "👍 👍🏽 😂 ❤️ 🇺🇸 1 2 3 42 2024 3.14 100% $5 #tag @user ... !!! ??").split(" ")
    lines = []
    for _ in range(1500):
        n = rng.randint(1, 14)
        line = " ".join(rng.choice(words) for _ in range(n))
        if rng.random() < 0.1:
            line = line.replace(" ", "  ", 1)
        if rng.random() < 0.05:
            line = "\t" + line
        if rng.random() < 0.3:
            line = line.capitalize() + rng.choice([".", "?", "!", ""])
        lines.append(line)
    return "\n".join(lines) + "\n"


def plain(tokenizer_json_path):
    """The tokenizer without its added tokens: special token texts in input encode as text."""
    with open(tokenizer_json_path, encoding="utf-8") as f:
        spec = json.load(f)
    spec["added_tokens"] = []
    return Tokenizer.from_str(json.dumps(spec))


def expectations(tok, texts):
    return [{"text": t,
             "pieces": [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(t)],
             "ids": tok.encode(t).ids} for t in texts]


def dump(path, value):
    with open(path, "w", encoding="utf-8") as f:
        # One entry per line: small, and diffs stay readable.
        f.write("[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in value) + "\n]\n")
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    train_path = os.path.join(FIXTURES, "train.txt")
    with open(train_path, "w", encoding="utf-8", newline="") as f:
        f.write(training_text())
    hf_dir = os.path.join(FIXTURES, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    trainer_tok = ByteLevelBPETokenizer()
    with open(train_path, encoding="utf-8", newline="") as f:
        text = f.read()
    # One sequence, as attnchat's `train` reads a text file whole.
    trainer_tok.train_from_iterator([text], vocab_size=500, min_frequency=2, special_tokens=SPECIALS)
    trainer_tok.save_model(hf_dir)
    trainer_tok.save(os.path.join(hf_dir, "tokenizer.json"))
    print("wrote", os.path.relpath(hf_dir, ROOT))
    hf = plain(os.path.join(hf_dir, "tokenizer.json"))
    texts = TRICKY + text.splitlines()[:200]
    dump(os.path.join(FIXTURES, "hf-expected.json"), expectations(hf, texts))

    ok = True
    ours = os.path.join(FIXTURES, "attnchat")
    if os.path.isdir(ours):
        tok = plain(os.path.join(ours, "tokenizer.json"))
        from_files = ByteLevelBPETokenizer(os.path.join(ours, "vocab.json"),
                                           os.path.join(ours, "merges.txt"))
        exp = expectations(tok, texts)
        for e in exp:
            if from_files.encode(e["text"]).ids != e["ids"]:
                print("MISMATCH vocab.json+merges.txt vs tokenizer.json on", repr(e["text"]))
                ok = False
        dump(os.path.join(FIXTURES, "attnchat-expected.json"), exp)
        for name in ["vocab.json", "merges.txt", "tokenizer.json"]:
            same = open(os.path.join(ours, name), "rb").read() == open(os.path.join(hf_dir, name), "rb").read()
            print(f"attnchat/{name} {'is identical to' if same else 'DIFFERS from'} hf/{name}")
    else:
        print("no Fixtures/attnchat yet: train it with tokcli (see the docstring), then rerun")

    vocab = os.path.join(ROOT, "Vocab", "tokenizer.json")
    dataset = os.path.join(ROOT, "data", "chitchat", "dataset.json")
    if os.path.exists(vocab) and os.path.exists(dataset):
        with open(dataset, encoding="utf-8") as f:
            data = json.load(f)
        ids = sorted(data)
        validation = [data[k] for i, k in enumerate(ids) if i % 20 == 19]
        messages = [m["text"] for c in validation for turn in c["messages"] for m in turn]
        lines = messages[:1000]
        tok = plain(vocab)
        dump(os.path.join(FIXTURES, "vocab-validation.json"),
             [{"text": t, "ids": tok.encode(t).ids} for t in lines])
    gpt2 = os.path.join(ROOT, "data", "gpt2")
    if os.path.exists(os.path.join(gpt2, "vocab.json")):
        tok = ByteLevelBPETokenizer(os.path.join(gpt2, "vocab.json"), os.path.join(gpt2, "merges.txt"))
        dump(os.path.join(FIXTURES, "gpt2-expected.json"),
             [{"text": t, "ids": tok.encode(t).ids} for t in TRICKY + text.splitlines()[:100]])
    else:
        print("no data/gpt2 (Scripts/fetch-gpt2-vocab): gpt2-expected.json not refreshed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
