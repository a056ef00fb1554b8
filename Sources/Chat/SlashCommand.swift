import Sampling

/// A slash command typed into the chat. Both front ends (the full-screen UI and the line mode)
/// parse with `parse(_:)` and list the commands with `helpText`, both made from one table
/// (`entries`), so a command or an abbreviation works the same in both.
///
///     try SlashCommand.parse("/set temperature 0.7")  // .set(name: "temperature", value: "0.7")
///     try SlashCommand.parse("/q")                    // .quit
///     try SlashCommand.parse("/frobnicate")           // throws .unknown("/frobnicate")
public enum SlashCommand: Equatable, Sendable {
    /// `/set NAME VALUE`: change one sampling setting (`SamplingSettings.set(name:value:)`).
    case set(name: String, value: String)
    /// `/settings`: show the sampling settings.
    case settings
    /// `/reset`: forget the conversation.
    case reset
    /// `/regen`: generate the last reply again.
    case regen
    /// `/system TEXT`: the system prompt for the next replies; `/system` alone removes it.
    case system(String?)
    /// `/save FILE`: write the transcript to FILE (the rest of the line, spaces included), which
    /// must not exist; `/save! FILE` (`replace`) also replaces an existing FILE.
    case save(path: String, replace: Bool)
    /// `/help`: list the commands.
    case help
    /// `/quit` (also `/exit`, `/q`): leave.
    case quit

    /// One row of the command table: its spellings, its arguments and what it does.
    public struct Entry: Sendable {
        /// Every spelling; the first is the name help and usage lines show.
        public let names: [String]
        /// What it does, for the help text.
        public let summary: String
        /// The name and arguments: `/set NAME VALUE`.
        public let syntax: String
        /// Every spelling and the arguments, as help lists them: `/quit, /exit, /q`.
        public var spellings: String { ([syntax] + names.dropFirst()).joined(separator: ", ") }
        /// The line shown for wrong arguments: `usage: /set NAME VALUE, e.g. /set temperature 0.7`.
        public let usage: String
        /// The command for the spelling used and the text after it (trimmed); nil when the
        /// arguments do not fit.
        let make: @Sendable (_ name: String, _ rest: String) -> SlashCommand?

        init(_ names: [String], arguments: String = "", example: String? = nil, _ summary: String,
             named make: @escaping @Sendable (_ name: String, _ rest: String) -> SlashCommand?) {
            self.names = names
            self.summary = summary
            syntax = arguments.isEmpty ? names[0] : names[0] + " " + arguments
            usage = "usage: " + syntax + (example.map { ", e.g. " + $0 } ?? "")
            self.make = make
        }

        /// An entry whose spellings all mean the same.
        init(_ names: [String], arguments: String = "", example: String? = nil, _ summary: String,
             _ make: @escaping @Sendable (String) -> SlashCommand?) {
            self.init(names, arguments: arguments, example: example, summary, named: { make($1) })
        }

        /// An entry for a command that takes no arguments.
        init(_ names: [String], _ summary: String, _ command: SlashCommand) {
            self.init(names, summary) { $0.isEmpty ? command : nil }
        }
    }

    /// Every command, in the order help lists them.
    public static let entries: [Entry] = [
        Entry(["/set"], arguments: "NAME VALUE", example: "/set temperature 0.7", "change a sampling setting") { rest in
            // The value is the rest of the line; `SamplingSettings.set` judges it.
            guard let split = rest.firstIndex(where: \.isWhitespace) else { return nil }
            return .set(name: String(rest[..<split]), value: rest[split...].trimmedOfWhitespace())
        },
        Entry(["/settings"], "show the sampling settings", .settings),
        Entry(["/reset"], "forget the conversation", .reset),
        Entry(["/regen"], "generate the last reply again", .regen),
        Entry(["/system"], arguments: "[TEXT]", example: "/system You are a pirate.", "set the system prompt (alone: remove it)") { rest in
            .system(rest.isEmpty ? nil : rest)
        },
        // An existing FILE is kept unless the user says so: the `!` spelling replaces it.
        Entry(["/save", "/save!"], arguments: "FILE", "write the transcript to a new FILE (/save! replaces one)") { name, rest in
            rest.isEmpty ? nil : .save(path: rest, replace: name == "/save!")
        },
        Entry(["/help"], "this text", .help),
        Entry(["/quit", "/exit", "/q"], "leave (Ctrl-D works too)", .quit),
    ]

    /// Whether `line` (trimmed) is meant as a command rather than a message: it starts with `/`.
    public static func isCommand(_ line: String) -> Bool { line.hasPrefix("/") }

    /// Parses one input line that starts with `/` (whitespace around it and between the words is
    /// ignored, except inside a `/set` value or a `/save` path).
    /// - Throws: `SlashCommandError`: an unknown name, or arguments the command does not take.
    public static func parse(_ line: String) throws(SlashCommandError) -> SlashCommand {
        let text = line.trimmedOfWhitespace()
        let nameEnd = text.firstIndex(where: \.isWhitespace) ?? text.endIndex
        let name = String(text[..<nameEnd])
        guard let entry = entries.first(where: { $0.names.contains(name) }) else { throw .unknown(name) }
        guard let command = entry.make(name, text[nameEnd...].trimmedOfWhitespace()) else { throw .usage(entry.usage) }
        return command
    }

    /// `/help` in the line mode: the commands, one a line with what each does, then the setting
    /// names `/set` takes.
    public static let helpText: String = {
        let width = entries.map(\.spellings.count).max() ?? 0
        let rows = entries.map { "  " + $0.spellings + String(repeating: " ", count: width + 3 - $0.spellings.count) + $0.summary }
        return (["Commands:"] + rows + wrap(settingNamesLine, width: 96, indent: "  ")).joined(separator: "\n")
    }()

    /// `/help` in the full-screen UI, where the keys come first and room is short: the commands
    /// on one line, then the setting names, each to be wrapped by the view.
    public static let compactHelpText: String =
        "Commands:\n  " + entries.map(\.spellings).joined(separator: " · ") + "\n  " + settingNamesLine

    private static let settingNamesLine = "NAME is one of: " + SamplingSettings.settingNames.joined(separator: ", ")

    /// `text` broken at spaces into lines of at most `width` characters, each after `indent`.
    private static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(indent + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(indent + line) }
        return lines
    }
}

/// Why a line starting with `/` is not a command. `description` is the one line both front ends show.
public enum SlashCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No command has this name.
    case unknown(String)
    /// The command exists but not with these arguments; the usage line says how.
    case usage(String)

    public var description: String {
        switch self {
        case .unknown(let name): "unknown command \(name); /help lists them"
        case .usage(let line): line
        }
    }
}
