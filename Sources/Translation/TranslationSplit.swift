/// Which side of the train/validation/test split a pair falls on, decided by its source
/// (English) sentence alone, so every translation of one English sentence lands on the same side
/// and a test sentence is never seen in training under another translation:
///
///     FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the source's UTF-8
///     bytes, modulo 50: 0 is test, 1 is validation, 2…49 training.
///
/// A pure function of the text: it needs no seed, does not depend on the order of the file, and
/// another program (`fnv1a64(s.encode()) % 50` in Python) reproduces it.
public enum TranslationSplit: String, Sendable, CaseIterable {
    case train, validation, test

    /// The split puts 1 of every `modulus` hash values in test and 1 in validation.
    public static let modulus: UInt64 = 50

    /// The side for a source sentence.
    public init(source: String) {
        switch Self.fnv1a64(source.utf8) % Self.modulus {
        case 0: self = .test
        case 1: self = .validation
        default: self = .train
        }
    }

    /// FNV-1a, 64 bits: for each byte, xor then multiply by the prime (wrapping).
    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension TranslationPair {
    /// The side of the split this pair falls on (by its source sentence).
    public var split: TranslationSplit { TranslationSplit(source: source) }
}

extension TranslationCorpus {
    /// The pairs on each side of the split, each in file order.
    public func split() -> (train: [TranslationPair], validation: [TranslationPair], test: [TranslationPair]) {
        var train: [TranslationPair] = [], validation: [TranslationPair] = [], test: [TranslationPair] = []
        for pair in pairs {
            switch pair.split {
            case .train: train.append(pair)
            case .validation: validation.append(pair)
            case .test: test.append(pair)
            }
        }
        return (train, validation, test)
    }
}

/// A distinct source sentence and every target translation of it: one BLEU segment (one
/// hypothesis, scored against all of `references`).
public struct ReferenceGroup: Sendable, Equatable {
    public var source: String
    /// The targets of every pair with this source, in file order (a repeated target is kept
    /// once per pair, as sacreBLEU would be given it).
    public var references: [String]

    public init(source: String, references: [String]) {
        self.source = source
        self.references = references
    }

    /// Groups pairs by source sentence, in order of each source's first appearance. Sources are
    /// compared by their UTF-8 bytes, as the split hashes them (Swift's `==` on String would
    /// merge "é" with "e" + U+0301).
    public static func grouping(_ pairs: some Sequence<TranslationPair>) -> [ReferenceGroup] {
        var groups: [ReferenceGroup] = []
        var index: [[UInt8]: Int] = [:]
        for pair in pairs {
            let key = Array(pair.source.utf8)
            if let at = index[key] {
                groups[at].references.append(pair.target)
            } else {
                index[key] = groups.count
                groups.append(ReferenceGroup(source: pair.source, references: [pair.target]))
            }
        }
        return groups
    }
}
