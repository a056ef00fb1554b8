import ArgumentParser

/// The `attnchat` command line. Each command is a small type in its own file.
@main
struct AttnChat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attnchat",
        abstract: "A terminal chatbot you can look inside.",
        subcommands: [])
}
