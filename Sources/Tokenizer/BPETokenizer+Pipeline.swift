/// Encoding and decoding through a Hugging Face `tokenizer.json` pipeline, in `tokenizers`' order:
///
/// 1. added tokens that are not `normalized` are found in the raw text (leftmost-longest);
/// 2. each remaining span is normalized, and the `normalized` added tokens are found in it;
/// 3. each remaining span is pre-tokenized into pieces;
/// 4. each piece goes through the BPE model (byte-level, or char-level with byte fallback).
extension BPETokenizer {
    func encodeWithPipeline(_ text: String, allowingSpecialTokens: Bool) -> [Int] {
        guard let pipeline else { return [] }
        var result: [Int] = []
        var segments: [Pipeline.Segment] = []
        Pipeline.splitOnAddedTokens(Array(text.unicodeScalars), atStart: true,
                                    candidates: pipeline.candidates(normalized: false, special: allowingSpecialTokens),
                                    into: &segments)
        let normalizedCandidates = pipeline.candidates(normalized: true, special: allowingSpecialTokens)
        cache.withLock { cache in
            for segment in segments {
                switch segment {
                case .token(let id):
                    result.append(id)
                case .text(let raw, let atStart):
                    var inner: [Pipeline.Segment] = []
                    Pipeline.splitOnAddedTokens(pipeline.normalize(raw), atStart: atStart, candidates: normalizedCandidates, into: &inner)
                    for part in inner {
                        switch part {
                        case .token(let id):
                            result.append(id)
                        case .text(let normalized, let atStart):
                            for piece in pipeline.preTokenize(normalized, atStart: atStart) {
                                appendModelIDs(piece.scalars, pipeline: pipeline, to: &result, cache: &cache)
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Ids as `tokenizers`' `encode(text, add_special_tokens=True)`: the post-processor's
    /// `prefixIDs`, the text with special tokens allowed, then `suffixIDs`.
    ///
    ///     llama.encode("Hi", allowingSpecialTokens: true, addingSpecialTokens: true)  // [1, 6324]
    public func encode(_ text: String, allowingSpecialTokens: Bool, addingSpecialTokens: Bool) -> [Int] {
        let body = encode(text, allowingSpecialTokens: allowingSpecialTokens)
        return addingSpecialTokens ? prefixIDs + body + suffixIDs : body
    }

    private func appendModelIDs(_ piece: [Unicode.Scalar], pipeline: Pipeline, to result: inout [Int],
                                cache: inout PieceCache.Storage) {
        var string = String(String.UnicodeScalarView(piece))
        string.withUTF8 { bytes in
            if pipeline.ignoreMerges, let id = pipeline.wholeTokenIDs[Array(bytes)] {
                result.append(Int(id))
                return
            }
            encodePiece(bytes, into: &result, cache: &cache)
        }
    }

    /// The SentencePiece-style model: one symbol per Unicode scalar (its vocabulary id, else its
    /// UTF-8 bytes as `<0xNN>` tokens with `byte_fallback`, else the unknown token, fused with
    /// its neighbours under `fuse_unk`, else nothing), then the merges by rank.
    func charLevelIDs(_ piece: UnsafeBufferPointer<UInt8>, pipeline: Pipeline, heap: inout MinHeap) -> [UInt32] {
        var ids: [UInt32] = []
        ids.reserveCapacity(piece.count)
        var pendingUnknown = false
        let text = String(decoding: piece, as: UTF8.self)
        for scalar in text.unicodeScalars {
            if let id = pipeline.scalarIDs[scalar.value] {
                if pendingUnknown, let unknown = pipeline.unknownID { ids.append(unknown) }
                pendingUnknown = false
                ids.append(id)
                continue
            }
            if let fallback = pipeline.byteFallbackIDs {
                let bytes = Array(String(scalar).utf8)
                if bytes.allSatisfy({ fallback[Int($0)] != UInt32.max }) {
                    // As `tokenizers` does, a pending unknown token waits behind the bytes.
                    for byte in bytes { ids.append(fallback[Int(byte)]) }
                    continue
                }
            }
            guard let unknown = pipeline.unknownID else { continue }
            if pendingUnknown && !pipeline.fuseUnknown { ids.append(unknown) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknown = pipeline.unknownID { ids.append(unknown) }
        if ids.count <= Self.naivePieceLimit {
            merges.mergeNaive(&ids)
        } else {
            merges.mergeLong(&ids, heap: &heap)
        }
        return ids
    }

    /// The token string the decoder sees for `id` (the added token's content or the vocabulary's).
    func decoderToken(_ id: Int) throws(TokenizerError) -> String {
        guard id >= 0, id < tokens.count, let token = tokens[id] else { throw .unknownID(id) }
        return pipeline?.decoderTokens[id] ?? token
    }
}

extension Pipeline {
    /// Whether decoding is bytes then UTF-8 (`ByteLevel`), so `bytes(of:)` concatenate exactly.
    var decodesBytes: Bool {
        if case .byteLevel = decoder { return true }
        return false
    }

    /// The added tokens searched in raw text (`normalized: false`) or in normalized text, with
    /// the content they are matched by; special ones only when allowed.
    func candidates(normalized: Bool, special: Bool) -> [(Scalars, AddedToken)] {
        let list = normalized ? normalizedCandidates : rawCandidates
        return special ? list : list.filter { !$0.1.special }
    }

    /// A token's own bytes for `bytes(of:)`: GPT-2's byte map for a byte-level decoder (a token
    /// with a character outside the map is its UTF-8, as `tokenizers`' ByteLevel decoder does);
    /// otherwise `<0xNN>` as that byte and the token's text with `▁` as a space.
    func bytes(ofToken token: String) -> [UInt8] {
        switch decoder {
        case .byteLevel:
            return ByteLevel.decode(token) ?? Array(token.utf8)
        case .sentencePiece(let replacements, let byteFallback, _, _):
            if byteFallback, let byte = TextDecoder.fallbackByte(token) { return [byte] }
            var scalars = Array(token.unicodeScalars)
            for (pattern, content) in replacements { scalars = Pipeline.replaceAll(pattern, with: content, in: scalars) }
            return Array(String(String.UnicodeScalarView(scalars)).utf8)
        case .metaspace(let replacement, _):
            return Array(String(String.UnicodeScalarView(token.unicodeScalars.map { $0 == replacement ? " " : $0 })).utf8)
        case .none:
            return Array(token.utf8)
        }
    }

    /// The non-byte-level decoders as a state machine over tokens, so that a streamed decode and
    /// `decode` of the whole sequence are one computation. Matches `tokenizers`:
    /// - ByteFallback: a run of `<0xNN>` tokens becomes its UTF-8 text when the run is valid
    ///   UTF-8, else one U+FFFD per byte (so a run is held until a non-byte token ends it);
    /// - Strip after Fuse: up to `count` leading `content` characters of the whole text go;
    ///   without Fuse, of each token;
    /// - Metaspace: `▁` is a space, except in the first token, where it is dropped.
    struct TextDecoder {
        let decoder: Decoder
        private var index = 0
        private var run: [UInt8] = []
        /// Leading characters the fused Strip may still remove; nil once text has been seen.
        private var stripLeft: Int?

        init(_ decoder: Decoder) {
            self.decoder = decoder
            if case .sentencePiece(_, _, true, let strip?) = decoder { stripLeft = strip.count }
        }

        var hasPendingBytes: Bool { !run.isEmpty }

        /// `<0xNN>` (two hex digits, either case) → the byte.
        static func fallbackByte(_ token: String) -> UInt8? {
            let utf8 = Array(token.utf8)
            guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E else { return nil }
            return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
        }

        mutating func push(_ token: String) -> String {
            defer { index += 1 }
            switch decoder {
            case .byteLevel:
                return ""  // decoded through bytes, never here
            case .none:
                return index == 0 ? token : " " + token
            case .metaspace(let replacement, let dropInFirst):
                var out = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement {
                        out.append(scalar)
                    } else if !(index == 0 && dropInFirst) {
                        out.append(" ")
                    }
                }
                return String(out)
            case .sentencePiece(let replacements, let byteFallback, _, _):
                var scalars = Array(token.unicodeScalars)
                for (pattern, content) in replacements { scalars = Pipeline.replaceAll(pattern, with: content, in: scalars) }
                let replaced = String(String.UnicodeScalarView(scalars))
                if byteFallback, let byte = Self.fallbackByte(replaced) {
                    run.append(byte)
                    return ""
                }
                return flushRun() + stripped(replaced)
            }
        }

        mutating func finish() -> String {
            flushRun()
        }

        private mutating func flushRun() -> String {
            guard !run.isEmpty else { return "" }
            defer { run.removeAll() }
            if let valid = String(validating: run, as: UTF8.self) { return stripped(valid) }
            var out = ""
            for _ in run { out += stripped("\u{FFFD}") }
            return out
        }

        private mutating func stripped(_ text: String) -> String {
            guard case .sentencePiece(_, _, let fuse, let strip?) = decoder, strip.count > 0 else { return text }
            var scalars = Substring(text).unicodeScalars[...]
            if fuse {
                guard var left = stripLeft else { return text }
                while left > 0, let first = scalars.first {
                    if first == strip.content {
                        scalars = scalars.dropFirst()
                        left -= 1
                    } else {
                        left = 0
                    }
                }
                // The strip is over once any text is seen (or `count` characters went).
                stripLeft = (left == 0 || !scalars.isEmpty) ? nil : left
                return String(String.UnicodeScalarView(scalars))
            }
            var left = strip.count
            while left > 0, scalars.first == strip.content {
                scalars = scalars.dropFirst()
                left -= 1
            }
            return String(String.UnicodeScalarView(scalars))
        }
    }
}
