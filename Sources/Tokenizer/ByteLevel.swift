
/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters.
///
/// BPE vocabularies are stored as text (`vocab.json`, `merges.txt`), where raw bytes such as
/// space, newline or 0xF0 would be invisible or invalid. GPT-2 therefore writes every byte as a
/// printable character: the 188 bytes that already print (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for
/// themselves, and the remaining 68 are shifted to U+0100 and up, in byte order.
///
///     ByteLevel.character(for: 0x41)  // "A"   (prints already)
///     ByteLevel.character(for: 0x20)  // "Ġ"   U+0120 (space is the 33rd non-printing byte)
///     ByteLevel.character(for: 0x0A)  // "Ċ"   U+010A (newline)
///     ByteLevel.byte(for: "Ġ")        // 0x20
public enum ByteLevel {
    /// `scalars[b]` is the printable scalar standing for byte `b`.
    public static let scalars: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 0
        for byte in 0..<256 {
            let printsAsItself = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            let value = printsAsItself ? UInt32(byte) : 256 + shifted
            if !printsAsItself { shifted += 1 }
            // Every value here is below U+0200, so the scalar always exists.
            result[byte] = Unicode.Scalar(value) ?? " "
        }
        return result
    }()

    /// Inverse of `scalars`, indexed by scalar value (all of them are below 0x144).
    private static let bytesByScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        for (byte, scalar) in scalars.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The printable character for `byte`.
    public static func character(for byte: UInt8) -> Character { Character(scalars[Int(byte)]) }

    /// The byte that `scalar` stands for, or nil when it is not one of the 256 printable stand-ins.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < bytesByScalar.count, bytesByScalar[value] >= 0 else { return nil }
        return UInt8(bytesByScalar[value])
    }

    /// Renders raw bytes as a vocabulary string: `encode([0x20, 0x68, 0x69]) == "Ġhi"`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(scalars[Int(byte)]) }
        return String(view)
    }

    /// The bytes a vocabulary string stands for: `decode("Ġhi") == [0x20, 0x68, 0x69]`.
    /// Returns nil if a character is not a byte stand-in (e.g. an added token such as `<|user|>`
    /// written with characters outside the map would still decode, since `<`, `|` … are in it).
    public static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
