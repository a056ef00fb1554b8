import ArgumentParser
import Foundation

/// The `attnchat` command line. Each command is a small type in its own file.
@main
struct AttnChat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attnchat",
        abstract: "A terminal chatbot you can look inside.",
        discussion: "With no command, chats with the embedded default model.",
        subcommands: [ChatCommand.self, GenerateCommand.self, ExplainCommand.self, TrainCommand.self, EvalCommand.self, InfoCommand.self, ExportCommand.self, TokenizerCommand.self, BenchCommand.self],
        defaultSubcommand: ChatCommand.self)

    /// Parses, runs, and turns every error into one stderr line and a sysexits code.
    static func main() {
        // A closed pipe (`attnchat generate ... | head`) is reported by write errors, not a signal.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as any SysexitsError {
            FileHandle.standardError.write(Data("attnchat: \(error.description)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            // Argument errors, --help and --version: ArgumentParser words them and picks the code
            // (ExitCode.validationFailure is 64, sysexits' EX_USAGE).
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
