#!/usr/bin/env python3
"""Makes the Hugging Face tokenizer.json family fixtures with `tokenizers`.

Usage:  /work/main/.venv/bin/python Scripts/make-hf-tokenizer-fixtures.py   # needs `tokenizers`

For each family, builds a small tokenizer with exactly the components that family's real
tokenizer.json has (trained here on Fixtures/train.txt plus generated multilingual text), and
writes into Tests/TokenizerTests/Fixtures/families/:
  NAME/tokenizer.json   the tokenizer (compact JSON, well under 300 KB)
  NAME-expected.json    {"encodes": [{text, ids, withSpecial, decoded}], "decodes": [{ids, text}]}
where `ids` is encode(text, add_special_tokens=False), `withSpecial` the same with True,
`decoded` is decode(withSpecial, skip_special_tokens=False), and `decodes` are random id
sequences with decode(ids, skip_special_tokens=False).

Families (what the real file has):
  gpt2        ByteLevel pre-tokenizer (GPT-2 regex), ByteLevel decoder and post-processor.
  smollm2     Sequence[Digits(individual), ByteLevel]; specials at ids 0..
  llama3      Sequence[Split(Llama-3 regex, Isolated), ByteLevel(use_regex false)], ignore_merges,
              post-processor Sequence[ByteLevel, TemplateProcessing(<|begin_of_text|> $A)].
  qwen2       NFC, Sequence[Split(Qwen2 regex, Isolated), ByteLevel(use_regex false)]; also
              added tokens exercising normalized/lstrip/rstrip/single_word.
  llama2      SentencePiece-style (TinyLlama, Llama-2, Mistral v0.1): Sequence[Prepend, Replace]
              normalizer, no pre-tokenizer, byte_fallback + <unk> + fuse_unk, decoder Sequence[Replace,
              ByteFallback, Fuse, Strip], TemplateProcessing(<s> $A); Mistral's [INST] [/INST].
  metaspace   the newer legacy=false layout: Metaspace(prepend_scheme first, split false)
              pre-tokenizer and no normalizer, same model and decoder as llama2.
  metaspace-always  an old layout: Metaspace(prepend_scheme always, split true) pre-tokenizer and
              a Metaspace decoder.
"""
import json
import os
import random
import sys
import unicodedata

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")
OUT = os.path.join(FIXTURES, "families")

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def training_lines():
    with open(os.path.join(FIXTURES, "train.txt"), encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    rng = random.Random(77)
    words = ("Hello world The THE they're We'LL I'd you've She'S 2024 12345 3.14159 naïve café déjà "
             "Ελληνικά Привет мир Москва 日本語 東京都 中文字符 한국어 텍스트 مرحبا العالم שלום "
             "नमस्ते दुनिया สวัสดี ğüşiöç İstanbul Straße ½ ² ٣٤٥ ๑๒ 👍 😂 🚀 tabs\tend "
             "def main(): return x->y; {} [] () <> == != && || // # @ $ % ^ & * _ - + = ~").split(" ")
    for _ in range(1500):
        n = rng.randint(1, 12)
        sep = rng.choice([" ", " ", " ", "  ", "\n", "\r\n", "\t"])
        lines.append(sep.join(rng.choice(words) for _ in range(n)))
    return lines


TRICKY = [
    "", " ", "  ", "\n", "\r\n", "\t", "Hello", "Hello world", " Hello world", "Hello world ", "  two leading",
    "trailing two  ", "Hello world!  How are you?", "I'm fine, you're great, we've been, they'll go, he'd say",
    "I'M SHOUTING 'S 'T 'RE 'VE 'LL 'D 'M", "'s'll 'd'", "'ſ 'ſt", "don't DON'T Don'T",
    "naïve café résumé façade Ångström", "e\u0301 combining acute, a\u0308\u0301 two marks", "cafe\u0301",
    "\u212b angstrom sign", "\u1100\u1161\u11a8 jamo", "\u0041\u030a\u0301", "ḱ\u0323", "\uff21\uff22 fullwidth",
    "日本語のテキストと中文字符", "한국어 텍스트", "Привет, мир! Ελληνικά", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "สวัสดีครับ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛", "👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸", "emoji👍🏽glued", "🚀🚀🚀",
    "1234567890 3.14159 1,000,000 ½ ² ٣ ๑๒๓ ⅷ", "12", "123", "1234", "a1b22c333d4444", "٣٤٥٦٧", "Ⅻ ⑫",
    "tabs\tand\t\ttabs", "spaces   between    words     ", "trailing newline\n", "\n\n\nleading newlines",
    "mixed \t\n whitespace \r\n runs", "a\r\nb\r\n\r\nc", "x \n\n y", "   ", "\u00a0non-breaking\u00a0spaces\u2009thin\u3000ideographic",
    "line\u2028separator\u0085next", "zero\u200bwidth\ufeffbom", "code: if (x == 1) { return y->z; } // done",
    "mixEd ScRiPts: abcабвαβγ日本123", "URL https://example.com/path?q=1&r=2#frag", "!!!??? ... --- ___ *** ~~~",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\x00\x01\x1f\x7f control",
    "▁ literal metaspace ▁▁ and ▁word", "<0x41> <unk> literal", "\U0010ffff\ue000 private", "ꙮ ǅ ʰ ー 々",
    "hello world said hello world", "Hello World HELLO WORLD", "x.y,z;w:v", "(parens) [brackets] {braces}",
    " ?!", "?\n", "!!\r\n\r\n", "\n ", " \n", "a  \n  b",
]

ATOMS = ["a", "b", "Z", "hello", "world", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2009", "\u3000",
         "\u0085", "'", "'s", "'ll", "'RE", "'T", "é", "e\u0301", "\u0308", "ñ", "ß", "日", "本", "語", "한",
         "ب", "ع", "٣", "½", "²", "7", "42", "12345", ".", ",", "!", "?", "-", "_", "👍", "👍🏽", "\u200d", "🇺🇸",
         "\ufe0f", "\u200b", "Ω", "я", "λ", "▁", "<", ">", "|", "\U0001f680", "\u0915\u094d", "ก", "\u0e31"]


def random_texts(specials, count, seed):
    rng = random.Random(seed)
    atoms = ATOMS + specials
    return ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def with_specials(specials):
    out = []
    for s in specials:
        out += [s, s + s, "hi" + s + "there", " " + s + " ", s + "\n", "x " + s + "y", "<" + s + ">", s[:-1]]
    return out


def trained_bytelevel(normalizer, pre_tokenizer, vocab_size, special_tokens=()):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  special_tokens=list(special_tokens),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer)
    return tok


def trained_sentencepiece(vocab_size):
    """A Llama-2-shaped BPE: <unk> <s> </s>, the 256 <0xNN> tokens, then merges over chars."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    # SentencePiece never merges across a word start; split there while training only.
    tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens, limit_alphabet=180)
    tok.train_from_iterator(training_lines(), trainer)
    spec = json.loads(tok.to_str())
    # Byte tokens are ordinary vocabulary entries in the real files, not added tokens.
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] in ("<unk>", "<s>", "</s>")]
    spec["pre_tokenizer"] = None
    spec["decoder"] = json.loads(decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]).__getstate__())
    return spec


def template(bos, bos_id):
    return processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)])


def state(component):
    return json.loads(component.__getstate__())


def families():
    out = {}

    tok = trained_bytelevel(None, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), 1200)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    out["gpt2"] = (json.loads(tok.to_str()), ["<|endoftext|>"])

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>"]
    tok = trained_bytelevel(None, pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]), 1500, specials)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    out["smollm2"] = (json.loads(tok.to_str()), specials[:3])

    split = lambda pattern: pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False)
    tok = trained_bytelevel(None, pre_tokenizers.Sequence([
        split(LLAMA3_PATTERN), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), 1500)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eot_id|>"]
    spec = json.loads(tok.to_str())
    model = spec["model"]
    model["ignore_merges"] = True
    # Whole words whose merges would spell them differently: only ignore_merges finds them.
    for extra in ["ĠHello", "Ġworld", "ĠTokenizer", "Ġxyzzy", "ĠПривет", "123", "Ġ!!"]:
        if extra not in model["vocab"]:
            model["vocab"][extra] = len(model["vocab"])
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=False),
                                              template("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    out["llama3"] = (json.loads(tok.to_str()), ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"])

    tok = trained_bytelevel(normalizers.NFC(), pre_tokenizers.Sequence([
        split(QWEN2_PATTERN), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), 1500)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False),
                    AddedToken("</tool_call>", special=False, normalized=False),
                    # Not Qwen2's own: the flags the other families' added tokens use.
                    AddedToken("café", special=False, normalized=True),
                    AddedToken("<mask>", special=True, normalized=False, lstrip=True),
                    AddedToken("<r>", special=False, normalized=False, rstrip=True),
                    AddedToken("[W]", special=False, normalized=False, single_word=True),
                    AddedToken("ab", special=False, normalized=False, single_word=True, lstrip=True, rstrip=True)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    out["qwen2"] = (json.loads(tok.to_str()), ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "café",
                                               "<mask>", "<r>", "[W]", "ab"])

    base = trained_sentencepiece(1400)
    tok = Tokenizer.from_str(json.dumps(base))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in ["[INST]", "[/INST]"]])
    tok.add_tokens([AddedToken("hello world", special=False, normalized=True)])
    tok.post_processor = template("<s>", 1)
    out["llama2"] = (json.loads(tok.to_str()), ["<s>", "</s>", "<unk>", "[INST]", "[/INST]", "hello world"])

    spec = dict(base)
    spec["normalizer"] = None
    spec["pre_tokenizer"] = state(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False))
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.post_processor = template("<s>", 1)
    out["metaspace"] = (json.loads(tok.to_str()), ["<s>", "</s>", "<unk>"])

    spec = dict(base)
    spec["normalizer"] = None
    spec["pre_tokenizer"] = state(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True))
    spec["decoder"] = state(decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True))
    tok = Tokenizer.from_str(json.dumps(spec))
    out["metaspace-always"] = (json.loads(tok.to_str()), ["<s>", "</s>"])
    return out


def chat_prompts(name):
    turns = [("system", "You are helpful."), ("user", "Hi! What's 2+2?"), ("assistant", " It's 4.\n"),
             ("user", "Thanks 👍\n\nBye")]
    if name in ("smollm2", "qwen2"):
        text = "".join(f"<|im_start|>{r}\n{c}<|im_end|>\n" for r, c in turns) + "<|im_start|>assistant\n"
    elif name == "llama3":
        text = "<|begin_of_text|>" + "".join(
            f"<|start_header_id|>{r}<|end_header_id|>\n\n{c.strip()}<|eot_id|>" for r, c in turns) \
            + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    elif name == "gpt2":
        text = "<|endoftext|>".join(c for _, c in turns) + "<|endoftext|>"
    elif name == "llama2":
        text = "<s>[INST] Hi! What's 2+2? [/INST] It's 4.</s>[INST] Thanks [/INST]"
    else:
        text = "<s><|user|>\nHi there</s>\n<|assistant|>\n"
    return [text, text[:len(text) // 2], text + " "]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (spec, specials) in families().items():
        directory = os.path.join(OUT, name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "tokenizer.json")
        text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        tok = Tokenizer.from_file(path)
        texts = TRICKY + with_specials(specials) + chat_prompts(name) + random_texts(specials, 160, len(name))
        texts += [unicodedata.normalize("NFD", t) for t in TRICKY[18:30]]
        encodes = []
        for t in texts:
            ids = tok.encode(t, add_special_tokens=False).ids
            full = tok.encode(t, add_special_tokens=True).ids
            encodes.append({"text": t, "ids": ids, "withSpecial": full,
                            "decoded": tok.decode(full, skip_special_tokens=False)})
        rng = random.Random(len(name) * 31)
        size = tok.get_vocab_size(with_added_tokens=True)
        byte_ids = [tok.token_to_id(f"<0x{b:02X}>") for b in (0x41, 0xC3, 0xA9, 0xE6, 0x97, 0xA5, 0xFF, 0x80, 0x20)]
        byte_ids = [i for i in byte_ids if i is not None]
        decodes = []
        for k in range(80):
            pool = list(range(size)) if not byte_ids or k % 2 == 0 else byte_ids + list(range(size))[:12]
            ids = [rng.choice(pool) for _ in range(rng.randint(1, 9))]
            decodes.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
        with open(os.path.join(OUT, name + "-expected.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps({"encodes": encodes, "decodes": decodes}, ensure_ascii=False, indent=0))
        print(f"wrote families/{name} ({len(text) // 1024} KB, vocabulary {size}, {len(encodes)} strings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
