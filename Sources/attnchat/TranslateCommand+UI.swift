import FoundationEssentials
import Glibc
import TUI
import Training

extension TranslateCommand {
    /// No TEXT and stdin a terminal: the full-screen translation view (`TranslateUI`) when
    /// stdout is a terminal too and TERM names one curses can drive; otherwise a usage error,
    /// since there is nothing to read lines from.
    func runFullScreen() throws {
        guard ChatUI.canRun() else {
            throw UsageError(description: "give TEXT to translate, or - and lines on stdin (the full-screen view needs a terminal on stdin and stdout and a TERM curses can drive)")
        }
        let loaded = try TranslationModel(path: model, vocab: vocab)
        let config = loaded.model.config
        let ui = TranslateUI(
            model: loaded.model, tokenizer: loaded.tokenizer, modelName: Self.displayName(model), source: loaded.source, target: loaded.target,
            decoding: beam == 1 ? .greedy : .beam(width: beam, lengthPenalty: lengthPenalty),
            maxLength: { TranslationEvaluation.maxLength(sourceTokens: $0, config: config) })
        guard let status = ui.run() else {
            throw UsageError(description: "this terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "")) cannot run the full-screen view; give TEXT, or - and lines on stdin")
        }
        if status != 0 { Glibc.exit(status) }
    }

    /// What the status bar calls the model: the file's name without its extension, or its
    /// directory's name for the `model.safetensors` that `train --task translate` writes
    /// (`runs/mt/model.safetensors` is "mt").
    static func displayName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let directory = url.deletingLastPathComponent().lastPathComponent
        return stem == "model" && !directory.isEmpty && directory != "/" ? directory : stem
    }
}
