#!/usr/bin/env python3
"""Writes Tests/TranslationTests/Fixtures/bleu.json: corpus BLEU cases scored by sacrebleu 2.x
with its defaults (13a tokenization, exp smoothing, 4-grams, no effective order, mixed case),
and 13a tokenizations of tricky strings, for the Swift BLEU to match.

Every sentence here is written for the fixture (no Tatoeba lines, which would carry their
CC-BY attributions). Run: .venv/bin/python Scripts/make-bleu-fixtures.py
"""
import json
import random
from pathlib import Path

import sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

OUT = Path(__file__).resolve().parent.parent / "Tests/TranslationTests/Fixtures/bleu.json"


def score(segments):
    """segments: [(hypothesis, [reference, ...])] -> sacrebleu's corpus BLEU of them.
    A segment may have fewer references than another: sacrebleu takes reference *streams*,
    padded with None where a segment has no reference of that index."""
    hyps = [h for h, _ in segments]
    width = max(len(r) for _, r in segments)
    streams = [[refs[i] if i < len(refs) else None for _, refs in segments] for i in range(width)]
    result = BLEU().corpus_score(hyps, streams)
    # corpus_bleu (the compat entry point) must agree: it is the function the issue names.
    assert abs(sacrebleu.corpus_bleu(hyps, streams).score - result.score) < 1e-12
    return {
        "score": result.score, "precisions": result.precisions, "bp": result.bp,
        "sys_len": result.sys_len, "ref_len": result.ref_len,
        "counts": list(result.counts), "totals": list(result.totals),
    }


HAND = {
    "perfect match": [("The cat sat on the mat.", ["The cat sat on the mat."])],
    "zero matches": [("xyz qqq www", ["The cat sat on the mat."])],
    "unigram matches only": [("mat the on sat cat", ["the cat sat on the mat"])],
    "empty hypothesis": [("", ["Hello there, friend."])],
    "all hypotheses empty": [("", ["a b c d"]), ("", ["e f"])],
    "empty hypothesis among others": [("", ["Hello there."]), ("I like green tea.", ["I like green tea very much."])],
    "hypothesis shorter than reference": [("I have a dog", ["I have a big brown dog at home"])],
    "hypothesis longer than reference": [("I have a dog and a cat and a bird at home", ["I have a dog"])],
    "shorter than four tokens": [("Go now", ["Go now"])],
    "punctuation": [("Hello, world! How are you? (Fine.)", ["Hello, world! How are you? (Fine, thanks.)"])],
    "numbers with commas and periods": [
        ("It costs 1,000.50 dollars, or 3.14 per unit.", ["It costs 1,000.50 dollars, or 3.14 a unit."]),
        ("Pages 10-20 of 1.000", ["Pages 10-20 of 1,000"]),
    ],
    "quotes": [("He said \"no\" and 'yes'.", ["He said \"no\", then 'yes'."]), ("“Curly” quotes", ["\"Curly\" quotes"])],
    "html entities": [
        ("Tom &amp; Jerry &quot;run&quot; &lt;fast&gt;", ["Tom & Jerry \"run\" <fast>"]),
        ("a &amp;lt; b", ["a < b"]),
        ("&nbsp;&apos;", ["&nbsp; '"]),
    ],
    "accents and Spanish punctuation": [
        ("¿Dónde está la estación?", ["¿Dónde está la estación de tren?", "¿Dónde queda la estación?"]),
        ("¡Qué día tan bonito!", ["¡Qué día más bonito!"]),
        ("El niño comió pingüino.", ["El niño comió un pingüino."]),
    ],
    "multi-reference clipping": [("the the the the the the the", ["The cat is on the mat.", "There is a cat on the mat."])],
    "multi-reference closest length tie goes to the shorter": [("a b c d e", ["a b c d", "a b c d e f"])],
    "multi-reference closest length": [("a b c d e f g", ["a b", "a b c d e f", "a b c d e f g h i j"])],
    "varying reference counts": [
        ("I am hungry.", ["I am hungry.", "I'm hungry.", "I feel hungry."]),
        ("See you tomorrow.", ["See you tomorrow!"]),
        ("Thank you very much.", ["Thanks a lot.", "Thank you so much."]),
    ],
    "skipped marker and hyphenated line break": [("a <skipped> b", ["a b"]), ("re-\nmarkable result-\n", ["remarkable result"])],
    "trailing whitespace and tabs": [("good morning \t ", ["good\tmorning"]), ("x\u00a0y\u2003z", ["x y z"])],
    "zero width space is not whitespace": [("a\u200bb c", ["a b c"])],
    "combining accents are not composed": [("cafe\u0301 con leche", ["café con leche"])],
    "symbols": [("$5 = 100% of {x} [y] ~z @w #1 ^ _ ` | \\", ["$5 = 100% of {x} [y] ~z @w #1 ^ _ ` | \\"])],
    "dashes and ellipses": [("well... maybe -- no—yes…", ["well ... maybe - no — yes …"])],
    "empty reference": [("something", [""]), ("and more words here", ["and more words here"])],
}


def random_cases(rng):
    vocab = ["el", "la", "de", "que", "y", "a", "en", "un", "es", "se", "no", "te", "lo", "le", "Tom", "casa",
             ",", ".", "?", "¿", "!", "¡", "3", "1,5", "2.0", "-", "'", "\"", "&amp;", "(", ")", "niño", "está"]
    cases = {}
    for index in range(8):
        segments = []
        for _ in range(rng.randint(1, 25)):
            reference_count = rng.randint(1, 4)
            references = []
            for _ in range(reference_count):
                words = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
                references.append(" ".join(words) if rng.random() < 0.7 else "".join(words))
            base = rng.choice(references).split(" ")
            hypothesis = [w for w in base if rng.random() < 0.8] + [rng.choice(vocab) for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.3:
                rng.shuffle(hypothesis)
            segments.append((" ".join(hypothesis), references))
        cases[f"random {index}"] = segments
    return cases


TOKENIZER_INPUTS = [
    "", " ", "Hello, world!", "Hello , world !", "It costs 1,000.50 dollars.", "3.14", ".5", "5.", "a.b", "a..", "...",
    "e.g., this", "1,2,3", "a,1", "1,a", "3-4", "a-b", "-5", "5-", "10--20", "don't", "'quoted'", "\"double\"",
    "¿Qué tal?", "¡Hola!", "Tom &amp; Jerry", "&quot;x&quot;", "&lt;tag&gt;", "&amp;lt;", "&amp;amp;", "&nbsp;",
    "AT&T", "a <skipped> b", "&lt;skipped&gt;", "<skipped>", "hy-\nphen", "line\nbreak", "trailing-\n", "tab\there",
    "cr\r\nlf", "nbsp\u00a0here", "em\u2003space", "zero\u200bwidth", "bom\ufeffin", "ideographic\u3000space",
    "nel\u0085next", "fs\u001cgs\u001drs\u001eus\u001f", "cafe\u0301", "café", "naïve façade", "—", "…", "«comillas»",
    "$5", "100%", "{x}", "[y]", "~z", "@w", "#1", "^", "_", "`", "|", "\\", "a/b", "a:b;c", "x=y+z", "x*y",
    "😀 emoji", "日本語です。", "١٢٣", "1.5.2024", "1,5,2024", "v1.2-beta", "9-", "9-a", "a.9", "9.a",
]


def random_tokenizer_inputs(rng):
    alphabet = list("ab9 0.,-'\"&;<>¿¡?!()/:@[]{}~`^_|\\\t\n\u00a0\u200béñ") + ["&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "-\n"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(150)]


def main():
    rng = random.Random(1234)
    cases = dict(HAND)
    cases.update(random_cases(rng))
    tokenizer = Tokenizer13a()
    inputs = TOKENIZER_INPUTS + random_tokenizer_inputs(rng)
    fixture = {
        "sacrebleu": sacrebleu.__version__,
        "python_whitespace": [c for c in range(0x110000) if chr(c).isspace()],
        "bleu": [
            {"name": name, "segments": [{"hypothesis": h, "references": r} for h, r in segments], **score(segments)}
            for name, segments in cases.items()
        ],
        "tokenize_13a": [{"input": text, "tokens": tokenizer(text)} for text in inputs],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(fixture['bleu'])} BLEU cases, {len(inputs)} tokenizations)")


if __name__ == "__main__":
    main()
