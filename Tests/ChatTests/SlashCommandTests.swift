import Sampling
import Testing
@testable import Chat

/// The one parser both front ends use: every command, every abbreviation, every bad argument.
@Suite struct SlashCommandTests {
    @Test(arguments: [
        ("/set temperature 0.7", SlashCommand.set(name: "temperature", value: "0.7")),
        // The value is the rest of the line; the setting judges it.
        ("/set  top-k   5 extra ", .set(name: "top-k", value: "5 extra")),
        ("/settings", .settings),
        ("/system  You are a pirate. ", .system("You are a pirate.")),
        ("/system", .system(nil)),
        ("/reset", .reset),
        ("/regen", .regen),
        ("/save chat.txt", .save(path: "chat.txt", replace: false)),
        ("/save! chat.txt", .save(path: "chat.txt", replace: true)),
        ("/save my chats/today.txt", .save(path: "my chats/today.txt", replace: false)),
        ("/help", .help),
        ("/quit", .quit),
        ("/exit", .quit),
        ("/q", .quit),
        ("  /q  ", .quit),
        ("/set\ttemperature\t0", .set(name: "temperature", value: "0")),
    ])
    func parsesEveryCommandAndAbbreviation(line: String, command: SlashCommand) throws {
        #expect(try SlashCommand.parse(line) == command)
    }

    @Test(arguments: [
        ("/set", "usage: /set NAME VALUE, e.g. /set temperature 0.7"),
        ("/set temperature", "usage: /set NAME VALUE, e.g. /set temperature 0.7"),
        ("/save", "usage: /save FILE"),
        ("/save   ", "usage: /save FILE"),
        ("/quit now", "usage: /quit"),
        ("/q now", "usage: /quit"),
        ("/reset everything", "usage: /reset"),
        ("/help me", "usage: /help"),
        ("/settings all", "usage: /settings"),
        ("/regen 2", "usage: /regen"),
    ])
    func badArgumentsGiveTheUsageLine(line: String, message: String) {
        #expect(throws: SlashCommandError.usage(message)) { try SlashCommand.parse(line) }
        #expect(SlashCommandError.usage(message).description == message)
    }

    @Test(arguments: ["/frobnicate", "/", "/QUIT", "/quitx", "/sav x"])
    func anUnknownNameIsOneLine(line: String) {
        let name = String(line.split(separator: " ")[0])
        #expect(throws: SlashCommandError.unknown(name)) { try SlashCommand.parse(line) }
        #expect(SlashCommandError.unknown(name).description == "unknown command \(name); /help lists them")
    }

    @Test func onlyLinesStartingWithASlashAreCommands() {
        #expect(SlashCommand.isCommand("/help"))
        #expect(!SlashCommand.isCommand("hello /help"))
    }

    /// Both help texts list every spelling of the table (each of which parses) and every
    /// setting /set takes.
    @Test(arguments: [SlashCommand.helpText, SlashCommand.compactHelpText])
    func helpListsEveryCommandSpellingAndSetting(help: String) throws {
        #expect(help.hasPrefix("Commands:\n  "))
        for entry in SlashCommand.entries {
            #expect(help.contains(entry.spellings), "\(entry.spellings)")
            for name in entry.names {
                // Known: it parses, or wants other arguments, but is never unknown.
                do { _ = try SlashCommand.parse(name) } catch { #expect(error != .unknown(name)) }
            }
        }
        for name in SamplingSettings.settingNames { #expect(help.contains(name), "\(name)") }
        #expect(help.contains("/set NAME VALUE") && help.contains("/save FILE") && help.contains("/quit, /exit, /q"))
    }

    @Test func theLineModeHelpSaysWhatEachCommandDoes() {
        #expect(SlashCommand.helpText.contains("  /quit, /exit, /q     leave (Ctrl-D works too)\n"))
        #expect(SlashCommand.helpText.split(separator: "\n").allSatisfy { $0.count <= 100 })
    }
}
