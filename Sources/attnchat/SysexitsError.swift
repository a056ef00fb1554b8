import Foundation
import GPT
import Safetensors
import Tokenizer
import Corpus
import Chat
import Sampling
import Training

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

/// A usage error found after parsing (exit 64), e.g. a flag combination.
struct UsageError: SysexitsError {
    let description: String
    var exitCode: Int32 { 64 }
}

/// An I/O failure writing output (exit 74).
struct OutputError: SysexitsError {
    let description: String
    var exitCode: Int32 { 74 }
}
