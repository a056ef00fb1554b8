/// Attention weights as shades: a level per weight, a character per level, and heat strips
/// (a row of weights squeezed into a few cells) for the grid of all layers and heads.
public enum Shade {
    /// Number of levels: 0 (nothing) ... levels-1 (the strongest weight of the row).
    public static let levels = 5
    static let unicodeRamp: [Character] = [" ", "░", "▒", "▓", "█"]
    static let asciiRamp: [Character] = [" ", ".", ":", "+", "#"]

    /// The level of `value` on a scale where `maximum` is the top level; weights are shown
    /// relative to the row's strongest so that a long context still shows contrast.
    ///
    ///     level(0, maximum: 0.5) == 0; level(0.5, maximum: 0.5) == 4; level(0.26, maximum: 0.5) == 2
    public static func level(_ value: Float, maximum: Float) -> Int {
        guard maximum > 0, value.isFinite, value > 0 else { return 0 }
        let scaled = Int((value / maximum * Float(levels - 1)).rounded())
        return min(levels - 1, max(0, scaled))
    }

    /// The character of a level: block shades, or " .:+#" without UTF-8.
    public static func character(level: Int, ascii: Bool) -> Character {
        let ramp = ascii ? asciiRamp : unicodeRamp
        return ramp[min(ramp.count - 1, max(0, level))]
    }

    /// Levels of `weights` squeezed into at most `width` cells: each cell shows the strongest
    /// weight of the positions it covers (positions spread evenly), relative to the row's maximum.
    public static func stripLevels(_ weights: ArraySlice<Float>, width: Int) -> [Int] {
        guard width > 0, !weights.isEmpty else { return [] }
        let n = weights.count
        let maximum = weights.max() ?? 0
        let cells = min(width, n)
        var out = [Int](repeating: 0, count: cells)
        let base = weights.startIndex
        for cell in 0..<cells {
            let lo = cell * n / cells, hi = max(lo + 1, (cell + 1) * n / cells)
            var m: Float = 0
            for i in lo..<hi { m = max(m, weights[base + i]) }
            out[cell] = level(m, maximum: maximum)
        }
        return out
    }

    /// A horizontal bar of `value` (0...1) on a scale where 1 fills `width` cells, padded with
    /// spaces to `width`: whole blocks then an eighth block ("▏" ... "▉") for the rest; without
    /// UTF-8, "#" per cell, rounded. Unlike the levels, a bar is absolute: weights that sum to 1
    /// keep their proportions from row to row.
    ///
    ///     bar(0.5, width: 4, ascii: false) == "██  "; bar(0.3, width: 4, ascii: true) == "#   "
    public static func bar(_ value: Float, width: Int, ascii: Bool) -> String {
        guard width > 0 else { return "" }
        let v = value.isFinite ? min(1, max(0, value)) : 0
        if ascii {
            let n = Int((v * Float(width)).rounded())
            return String(repeating: "#", count: n) + String(repeating: " ", count: width - n)
        }
        let eighths = Int((v * Float(width * 8)).rounded())
        var out = String(repeating: "█", count: eighths / 8)
        if eighths % 8 > 0 { out.append(eighthBlocks[eighths % 8 - 1]) }
        return out + String(repeating: " ", count: width - out.count)
    }

    static let eighthBlocks: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// A heat strip as text.
    public static func strip(_ weights: ArraySlice<Float>, width: Int, ascii: Bool) -> String {
        String(stripLevels(weights, width: width).map { character(level: $0, ascii: ascii) })
    }
}

/// Borders: box drawing, or + - | without UTF-8.
public struct BorderGlyphs: Sendable {
    public let horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: Character
    public static let unicode = BorderGlyphs(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘")
    public static let ascii = BorderGlyphs(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+")
    public static func forTerminal(ascii: Bool) -> BorderGlyphs { ascii ? .ascii : .unicode }
}
