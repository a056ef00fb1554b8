import FileIO
import GPT
import Safetensors
import Tokenizer
import Corpus
import Chat
import Sampling
import Training
import Seq2Seq
import Translation

/// An error a command reports as one line on stderr before exiting with a sysexits code
/// (64 usage, 65 bad data, 66 missing input, 74 I/O, 130 interrupted).
protocol SysexitsError: Error, CustomStringConvertible {
    var exitCode: Int32 { get }
}

extension GPTError: SysexitsError {}
extension SafetensorsError: SysexitsError {}
extension TokenizerError: SysexitsError {}
extension CorpusError: SysexitsError {}
extension ChatError: SysexitsError {}
extension SamplingSettingsError: SysexitsError {}
extension SamplingError: SysexitsError {
    var exitCode: Int32 { 65 }
}
extension TrainingError: SysexitsError {}
extension Seq2SeqError: SysexitsError {}
extension TranslationError: SysexitsError {}
extension AtomicFile.Failure: SysexitsError {}

/// A usage error found after parsing (exit 64), e.g. a flag combination.
struct UsageError: SysexitsError {
    let description: String
    var exitCode: Int32 { 64 }
}

/// How a command's `--force` flag chooses what happens to an output that already exists:
/// replaced with it, refused (exit 73) with a line that names the flag without it.
func overwritePolicy(force: Bool, hint: String = "--force replaces it") -> AtomicFile.Existing {
    force ? .replace : .refuse(hint: hint)
}

/// Checks, before any work, that `paths` can be written under `existing` (and makes
/// `directory`, when given): a refused output then fails at once rather than after the work.
/// The writes check again, so a file that appears meanwhile is not replaced either.
func checkOutputs(_ paths: [String], in directory: String? = nil, existing: AtomicFile.Existing) throws(AtomicFile.Failure) {
    if let directory { try AtomicFile.makeDirectory(directory) }
    for path in paths { _ = try AtomicFile.destination(path, existing: existing) }
}
