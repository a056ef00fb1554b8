import ArgumentParser
import Chat
import FileIO
import FoundationEssentials
import Glibc

/// The `attnchat` command line. Each command is a small type in its own file.
@main
struct AttnChat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attnchat",
        abstract: "A terminal chatbot you can look inside.",
        discussion: "With no command, chats with the embedded default model.",
        subcommands: [ChatCommand.self, GenerateCommand.self, ExplainCommand.self, TrainCommand.self, EvalCommand.self, TranslateCommand.self, InfoCommand.self, ExportCommand.self, TokenizerCommand.self, BenchCommand.self],
        defaultSubcommand: ChatCommand.self)

    /// Parses, runs, and turns every error into one stderr line and a sysexits code.
    static func main() {
        // A closed pipe (`attnchat generate ... | head`) is reported by write errors, not a signal.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot(TokenizerCommand.Decode.joiningIDs(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch StdoutError.readerGone {
            // `attnchat … | head`: the reader has what it wanted; nothing to report.
            Glibc.exit(0)
        } catch let error as any SysexitsError {
            printError("attnchat: \(error.description)")
            Glibc.exit(error.exitCode)
        } catch {
            // Argument errors, --help and --version: ArgumentParser words them and picks the code
            // (ExitCode.validationFailure is 64, sysexits' EX_USAGE).
            let code = exitCode(for: error)
            if code == .success {
                do throws(StdoutError) {
                    try Stdout.write(fullMessage(for: error) + "\n")
                } catch {
                    if case .failed = error { printError("attnchat: \(error.description)") }
                    Glibc.exit(error.exitCode)
                }
                Glibc.exit(0)
            }
            // Usage over several lines, quoting what was typed: inert, lines kept.
            UncheckedOutput.standardError("\(TerminalSafe.inert(fullMessage(for: error)))\n")
            Glibc.exit(code.rawValue)
        }
    }
}
