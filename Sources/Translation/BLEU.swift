import Glibc

/// Corpus BLEU exactly as sacreBLEU 2.x computes it with its defaults —
/// `sacrebleu.corpus_bleu(hypotheses, references)`: 13a tokenization, mixed case, n-grams up to 4,
/// exponential smoothing, no effective order, brevity penalty — so a score printed by attnchat is
/// the number a paper would print. `Tests/TranslationTests` holds it to sacreBLEU's own output.
///
/// Per segment (one hypothesis, one or more references), after `rstrip()` and 13a tokenization:
/// - each hypothesis n-gram matches at most as often as it occurs in the reference that has it
///   most often (clipping, over all references);
/// - the segment's reference length is the reference length closest to the hypothesis length,
///   a tie going to the shorter reference.
///
/// The corpus sums matches, totals and lengths over segments, then
///
///     precision_n = 100 · matches_n / total_n   (when matches_n = 0: 100 / (2^k · total_n),
///                                                 k counting the orders with no match so far)
///     BP          = 1 if sys_len ≥ ref_len, else exp(1 − ref_len / sys_len) (0 when sys_len = 0)
///     BLEU        = BP · exp(¼ Σ log precision_n)
///
/// BLEU is 0 when no n-gram of any order matches, and when some order has no n-grams at all
/// (every hypothesis shorter than 4 tokens): sacreBLEU logs such a precision as −9999999999.
public enum BLEU {
    /// The highest n-gram order.
    public static let maxOrder = 4

    /// A corpus score and what it is made of, named as sacreBLEU's `BLEUScore` fields are.
    public struct Score: Sendable, Equatable {
        /// BLEU, 0…100.
        public var score: Double
        /// The n-gram precisions for n = 1…4, in percent (smoothed where nothing matched).
        public var precisions: [Double]
        public var brevityPenalty: Double
        /// Tokens in all hypotheses (sacreBLEU's `sys_len`).
        public var systemLength: Int
        /// The sum of each segment's chosen reference length (sacreBLEU's `ref_len`).
        public var referenceLength: Int
        /// Clipped matches and hypothesis n-grams per order (sacreBLEU's `counts`, `totals`).
        public var matches: [Int]
        public var totals: [Int]
    }

    /// The corpus BLEU of `segments`, each a hypothesis with its references. A segment with no
    /// references counts its hypothesis n-grams as unmatched against a reference length of 0
    /// (sacreBLEU needs at least one reference per segment). No segments at all score 0.
    public static func corpusScore(_ segments: some Sequence<(hypothesis: String, references: [String])>) -> Score {
        var vocabulary: [[Unicode.Scalar]: Int] = [:]
        /// Tokens as ids, so that n-grams are compared scalar by scalar (as Python compares
        /// strings) and not by Swift's canonical equivalence.
        func ids(_ text: String) -> [Int] {
            tokens13a(rstripped(Array(text.unicodeScalars))).map { token in
                if let id = vocabulary[token] { return id }
                vocabulary[token] = vocabulary.count
                return vocabulary.count - 1
            }
        }
        var matches = [Int](repeating: 0, count: maxOrder), totals = matches
        var systemLength = 0, referenceLength = 0
        for (hypothesis, references) in segments {
            var referenceCounts: [[Int]: Int] = [:]
            var referenceLengths: [Int] = []
            for reference in references {
                let tokens = ids(reference)
                referenceLengths.append(tokens.count)
                for (ngram, count) in ngramCounts(tokens) { referenceCounts[ngram] = max(referenceCounts[ngram, default: 0], count) }
            }
            let tokens = ids(hypothesis)
            systemLength += tokens.count
            referenceLength += closestLength(to: tokens.count, among: referenceLengths)
            for (ngram, count) in ngramCounts(tokens) {
                totals[ngram.count - 1] += count
                matches[ngram.count - 1] += min(count, referenceCounts[ngram, default: 0])
            }
        }
        return score(matches: matches, totals: totals, systemLength: systemLength, referenceLength: referenceLength)
    }

    /// sacreBLEU's `compute_bleu` with `smooth_method='exp'`, from the summed statistics.
    static func score(matches: [Int], totals: [Int], systemLength: Int, referenceLength: Int) -> Score {
        var brevityPenalty = 1.0
        if systemLength < referenceLength {
            brevityPenalty = systemLength > 0 ? exp(1 - Double(referenceLength) / Double(systemLength)) : 0
        }
        var precisions = [Double](repeating: 0, count: maxOrder)
        var result = Score(score: 0, precisions: precisions, brevityPenalty: brevityPenalty,
                           systemLength: systemLength, referenceLength: referenceLength, matches: matches, totals: totals)
        guard matches.contains(where: { $0 != 0 }) else { return result }
        var smoothing = 1.0
        for n in 0..<maxOrder {
            // Orders past the first with no n-grams keep precision 0, which zeroes the score.
            if totals[n] == 0 { break }
            if matches[n] == 0 {
                smoothing *= 2
                precisions[n] = 100 / (smoothing * Double(totals[n]))
            } else {
                precisions[n] = 100 * Double(matches[n]) / Double(totals[n])
            }
        }
        // sacreBLEU's my_log: log, with log(0) "floored" to -9999999999.
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : log($1)) }
        result.precisions = precisions
        result.score = brevityPenalty * exp(logSum / Double(maxOrder))
        return result
    }

    /// sacreBLEU's `_get_closest_ref_len`: the length nearest `length`, ties to the shorter.
    static func closestLength(to length: Int, among lengths: [Int]) -> Int {
        var best: Int?
        for candidate in lengths {
            guard let current = best else { best = candidate; continue }
            let distance = abs(length - candidate), bestDistance = abs(length - current)
            if distance < bestDistance || (distance == bestDistance && candidate < current) { best = candidate }
        }
        return best ?? 0
    }

    /// Every n-gram of order 1…4 with its count.
    static func ngramCounts(_ tokens: [Int]) -> [[Int]: Int] {
        var counts: [[Int]: Int] = [:]
        for n in 1...maxOrder where n <= tokens.count {
            for start in 0...(tokens.count - n) { counts[Array(tokens[start..<start + n]), default: 0] += 1 }
        }
        return counts
    }

    // MARK: - 13a tokenization

    /// sacreBLEU's `Tokenizer13a()(line)` (mteval-v13a's tokenization, as WMT uses): the tokens
    /// joined by single spaces.
    public static func tokenize13a(_ line: String) -> String {
        var joined = String.UnicodeScalarView()
        for (index, token) in tokens13a(Array(line.unicodeScalars)).enumerated() {
            if index > 0 { joined.append(" ") }
            joined.append(contentsOf: token)
        }
        return String(joined)
    }

    /// The 13a tokens of `line`, step by step as `tokenizer_13a.py` and `tokenizer_re.py` do it.
    /// Their regexes are written out as scans: each one matches one or two scalars, and
    /// `re.sub` replaces non-overlapping matches left to right, resuming after each match.
    static func tokens13a(_ line: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var text = replacing("<skipped>", with: "", in: line)
        text = replacing("-\n", with: "", in: text)
        text = replacing("\n", with: " ", in: text)
        if text.contains("&") {
            // In this order, each over the previous one's output: "&amp;lt;" becomes "<".
            text = replacing("&quot;", with: "\"", in: text)
            text = replacing("&amp;", with: "&", in: text)
            text = replacing("&lt;", with: "<", in: text)
            text = replacing("&gt;", with: ">", in: text)
        }
        text = [" "] + text + [" "]
        // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ": ASCII symbols except ' , - . (and digits, letters).
        var spaced: [Unicode.Scalar] = []
        spaced.reserveCapacity(text.count * 2)
        for scalar in text {
            if isSymbol13a(scalar) { spaced += [" ", scalar, " "] } else { spaced.append(scalar) }
        }
        // ([^0-9])([\.,]) -> "\1 \2 ": period and comma, unless after a digit.
        text = substitutingPairs(in: spaced, where: { !isDigit($0) }, { $0 == "." || $0 == "," }) { [$0, " ", $1, " "] }
        // ([\.,])([^0-9]) -> " \1 \2": period and comma, unless before a digit.
        text = substitutingPairs(in: text, where: { $0 == "." || $0 == "," }, { !isDigit($0) }) { [" ", $0, " ", $1] }
        // ([0-9])(-) -> "\1 \2 ": a dash after a digit.
        text = substitutingPairs(in: text, where: isDigit, { $0 == "-" }) { [$0, " ", $1, " "] }
        return text.split(whereSeparator: isPythonWhitespace).map(Array.init)
    }

    /// `[0-9]` in a Python regex: the ASCII digits only.
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    /// The first 13a character class: `{|}~`, `[\]^_` and backquote, space to `&`, `(` to `+`,
    /// `:` to `@`, and `/`.
    static func isSymbol13a(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: true
        default: false
        }
    }

    /// What Python's `str.split()` and `str.rstrip()` take for whitespace (`str.isspace`):
    /// more than ASCII (no-break space, U+2000…U+200A, the separators U+001C…U+001F), but not
    /// the zero-width space U+200B or the byte order mark U+FEFF.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// Python's `str.rstrip()`.
    static func rstripped(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        Array(text[..<(text.lastIndex(where: { !isPythonWhitespace($0) }).map { $0 + 1 } ?? 0)])
    }

    /// Python's `str.replace(old, new)`: non-overlapping occurrences, left to right.
    static func replacing(_ old: String, with new: String, in text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let old = Array(old.unicodeScalars), new = Array(new.unicodeScalars)
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == old[0] && text[index...].starts(with: old) {
                result += new
                index += old.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// `re.sub` of a two-scalar pattern `(first)(second)`: at each position, a match is replaced
    /// and the scan resumes after it; otherwise the scalar is kept.
    static func substitutingPairs(
        in text: [Unicode.Scalar], where first: (Unicode.Scalar) -> Bool, _ second: (Unicode.Scalar) -> Bool,
        by replacement: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]
    ) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count + text.count / 2)
        var index = 0
        while index < text.count {
            if index + 1 < text.count && first(text[index]) && second(text[index + 1]) {
                result += replacement(text[index], text[index + 1])
                index += 2
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }
}
