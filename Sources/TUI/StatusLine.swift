import Chat
import Sampling

/// What the status bar shows.
public struct StatusInfo: Equatable, Sendable {
    public var modelName: String
    public var settings: SamplingSettings
    public var tokensPerSecond: Double?
    public var contextUsed: Int
    public var contextLength: Int
    public var streaming: Bool
    /// Rows scrolled back from the bottom of the transcript (0: following the conversation).
    public var scrolledBack: Int

    public init(modelName: String, settings: SamplingSettings, tokensPerSecond: Double? = nil, contextUsed: Int = 0,
                contextLength: Int, streaming: Bool = false, scrolledBack: Int = 0) {
        self.modelName = modelName
        self.settings = settings
        self.tokensPerSecond = tokensPerSecond
        self.contextUsed = contextUsed
        self.contextLength = contextLength
        self.streaming = streaming
        self.scrolledBack = scrolledBack
    }
}

/// The status bar and help line texts, fitted to the terminal's width.
public enum StatusText {
    /// Every sampling setting (the seed only in `/settings`), in full:
    /// `temp 0.80 top-k 40 top-p 0.95 min-p 0.05 typ 1.00 rep 1.10/64 freq 0.00 pres 0.00`,
    /// or compact: `T0.80 k40 p0.95 m0.05 ty1.00 r1.10/64 f0.00 pr0.00`.
    public static func settings(_ s: SamplingSettings, compact: Bool = false) -> String {
        if compact {
            return "T\(f2(s.temperature)) k\(s.topK) p\(f2(s.topP)) m\(f2(s.minP)) ty\(f2(s.typicalP)) "
                + "r\(f2(s.repeatPenalty))/\(s.repeatLastN) f\(f2(s.frequencyPenalty)) pr\(f2(s.presencePenalty))"
        }
        return "temp \(f2(s.temperature)) top-k \(s.topK) top-p \(f2(s.topP)) min-p \(f2(s.minP)) typ \(f2(s.typicalP)) "
            + "rep \(f2(s.repeatPenalty))/\(s.repeatLastN) freq \(f2(s.frequencyPenalty)) pres \(f2(s.presencePenalty))"
    }

    /// The status bar: state, model, every setting, speed, context. Falls back to a compact
    /// spelling of the settings, then cuts the end, so it always fits `width`.
    public static func statusLine(_ info: StatusInfo, width: Int) -> String {
        let state = info.streaming ? "▶" : "■"
        let speed = info.tokensPerSecond.map { String(format1($0)) + " tok/s" } ?? "- tok/s"
        let context = "ctx \(info.contextUsed)/\(info.contextLength)"
        let scroll = info.scrolledBack > 0 ? " │ ↑\(info.scrolledBack)" : ""
        for compact in [false, true] {
            let line = " \(state) \(info.modelName) │ \(settings(info.settings, compact: compact)) │ \(speed) │ \(context)\(scroll)"
            if TextWidth.of(line) <= width { return line }
        }
        let line = " \(state) \(settings(info.settings, compact: true)) │ \(speed) │ \(context)"
        return TextWidth.prefix(line, fitting: width)
    }

    /// The keys, most important first; the help line shows as many as fit.
    public static let keyHints: [String] = [
        "F1 help", "F2/F3 temp", "F4/F5 top-k", "F6/F7 top-p", "F8/F9 min-p", "F10/F11 repeat",
        "M-f/F freq", "M-p/P presence", "M-h/l head", "M-j/k layer", "M-g grid", "M-e explain", "M-,/. scrub", "M-c colour", "M-a alts",
        "PgUp/PgDn scroll", "^C stop", "^D quit",
    ]

    /// As many key hints (the chat's, unless `hints`) as fit `width`, separated by two spaces.
    public static func helpLine(width: Int, hints: [String] = keyHints) -> String {
        var line = ""
        for hint in hints {
            let next = line.isEmpty ? " " + hint : line + "  " + hint
            if TextWidth.of(next) > width { break }
            line = next
        }
        return line
    }

    /// `/help`: every key, then the commands as the line mode lists them.
    public static let helpText = """
        Keys:
          Enter send · Left/Right/Home/End/Backspace/Delete edit · Up/Down history · ^A/^E home/end
          ^U clear line · ^W delete word · ^K delete to end · ^L redraw
          F2/F3 temperature -/+0.1 · F4/F5 top-k -/+5 · F6/F7 top-p -/+0.05 · F8/F9 min-p -/+0.01
          F10/F11 repeat-penalty -/+0.05 · M-f/M-F frequency-penalty -/+0.1 · M-p/M-P presence-penalty -/+0.1
          F12 hide/show the attention pane
          M-h/M-l previous/next head · M-j/M-k next/previous layer · M-g grid · M-e explain the head
          M-, / M-. scrub back/forward through the last reply's tokens (M-/ back to live)
          M-c colour tokens by probability · M-a top alternatives of the last (or scrubbed) token
          PgUp/PgDn scroll · ^C stop the reply (at an empty prompt: quit) · ^D quit
          (M- is Alt, or Esc then the key)

        """ + SlashCommand.compactHelpText

    /// The translation view's status bar: state, model, languages, decoding, the pane's layer
    /// and head, speed, and the last translation's token counts. Drops the model's name, then
    /// cuts the end, so it always fits `width`; ASCII arrows and bars with `ascii`.
    public static func translationLine(_ info: TranslationStatus, width: Int, ascii: Bool) -> String {
        let bar = ascii ? "|" : "│", arrow = ascii ? "->" : "→"
        let state = info.streaming ? (ascii ? ">" : "▶") : (ascii ? "-" : "■")
        let speed = info.tokensPerSecond.map { format1($0) + " tok/s" } ?? "- tok/s"
        let languages = info.languages.map { "\($0.source)\(arrow)\($0.target) \(bar) " } ?? ""
        let tokens = info.tokens.map { " \(bar) \($0.source) \(arrow) \($0.target) tokens" } ?? ""
        let scroll = info.scrolledBack > 0 ? " \(bar) \(ascii ? "^" : "↑")\(info.scrolledBack)" : ""
        let rest = "\(languages)\(info.decoding) \(bar) L\(info.layer + 1)/\(info.layers) H\(info.head + 1)/\(info.heads) \(bar) \(speed)\(tokens)\(scroll)"
        let line = " \(state) \(info.modelName) \(bar) \(rest)"
        if TextWidth.of(line) <= width { return line }
        return TextWidth.prefix(" \(state) \(rest)", fitting: width)
    }

    /// The translation view's keys, most important first.
    public static let translationKeyHints: [String] = [
        "F1 help", "M-h/l head", "M-j/k layer", "M-g grid", "M-,/. scrub", "M-c colour", "F12 pane", "PgUp/PgDn scroll", "^C stop", "^D quit",
    ]

    /// F1 and /help in the translation view.
    public static let translationHelpText = """
        Keys:
          Enter translate the line (each line of a paste in turn) · Left/Right/Home/End/Backspace/Delete edit
          Up/Down history · ^A/^E home/end · ^U clear line · ^W delete word · ^K delete to end · ^L redraw
          The pane shows the newest target token's cross-attention over the source tokens:
          M-h/M-l previous/next head · M-j/M-k next/previous layer · M-g the whole alignment matrix (source × target)
          M-, / M-. scrub back/forward through the last translation's tokens (M-/ back to live)
          M-c colour tokens by probability · F12 hide/show the pane · PgUp/PgDn scroll
          ^C stop the translation (at an empty prompt: quit) · ^D or /quit quit · ^Z suspend
          (M- is Alt, or Esc then the key)
        """

    /// `x` with three decimals (probabilities in the alternatives list).
    static func f3(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        let r = Int((x * 1000).rounded())
        let s = String(abs(r) % 1000)
        return (r < 0 ? "-" : "") + "\(abs(r) / 1000)." + String(repeating: "0", count: 3 - s.count) + s
    }

    /// `x` with two decimals.
    static func f2(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        let whole = Int(r)
        var frac = Int((abs(r - Double(whole)) * 100).rounded())
        var w = whole
        if frac >= 100 { frac -= 100; w += r < 0 ? -1 : 1 }
        return (r < 0 && w == 0 ? "-" : "") + "\(w)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    static func format1(_ x: Double) -> String {
        guard x.isFinite else { return "-" }
        let r = (x * 10).rounded() / 10
        return "\(Int(r)).\(Int((abs(r - Double(Int(r))) * 10).rounded()) % 10)"
    }
}

/// What the translation view's status bar shows.
public struct TranslationStatus: Sendable {
    public var modelName: String
    /// The model's languages (its file's `source` and `target`), when recorded.
    public var languages: (source: String, target: String)?
    /// "greedy" or "beam 5".
    public var decoding: String
    public var layer: Int, layers: Int, head: Int, heads: Int
    public var tokensPerSecond: Double?
    /// The last translation's source and target token counts.
    public var tokens: (source: Int, target: Int)?
    public var streaming: Bool
    public var scrolledBack: Int

    public init(modelName: String, languages: (source: String, target: String)?, decoding: String, layer: Int, layers: Int, head: Int, heads: Int,
                tokensPerSecond: Double? = nil, tokens: (source: Int, target: Int)? = nil, streaming: Bool = false, scrolledBack: Int = 0) {
        self.modelName = modelName
        self.languages = languages
        self.decoding = decoding
        (self.layer, self.layers, self.head, self.heads) = (layer, layers, head, heads)
        self.tokensPerSecond = tokensPerSecond
        self.tokens = tokens
        self.streaming = streaming
        self.scrolledBack = scrolledBack
    }
}
