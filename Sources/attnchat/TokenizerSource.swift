import CEmbedded
import Chat
import FoundationEssentials
import GPT
import Tokenizer

private func embeddedBlob(_ accessor: (UnsafeMutablePointer<Int>) -> UnsafePointer<UInt8>?) -> Data {
    var count = 0
    guard let start = accessor(&count) else { return Data() }
    return Data(bytes: start, count: count)
}

/// The default tokenizer's files, compiled into the binary from Vocab/.
func defaultTokenizerFiles() -> (vocabJSON: Data, merges: Data) {
    (embeddedBlob(attnchat_embedded_vocab_json), embeddedBlob(attnchat_embedded_merges_txt))
}

/// The embedded translation model's tokenizer files, compiled into the binary from Model/en-es/.
func embeddedTranslationTokenizerFiles() -> (vocabJSON: Data, merges: Data) {
    (embeddedBlob(attnchat_embedded_translation_vocab_json), embeddedBlob(attnchat_embedded_translation_merges_txt))
}

/// Which tokenizer goes with a model: `--vocab DIR` if given, else the files in a Hugging Face
/// model directory (tokenizer.json, or vocab.json + merges.txt), else the embedded default.
func loadTokenizer(vocab: String?, modelPath: String?) throws(TokenizerError) -> BPETokenizer {
    if let vocab { return try BPETokenizer(directory: vocab) }
    if let modelPath {
        var isDirectory = false
        let fm = FileManager.default
        if fm.fileExists(atPath: modelPath, isDirectory: &isDirectory), isDirectory,
            fm.fileExists(atPath: modelPath + "/tokenizer.json") || fm.fileExists(atPath: modelPath + "/vocab.json")
        {
            return try BPETokenizer(directory: modelPath)
        }
    }
    let files = defaultTokenizerFiles()
    return try BPETokenizer(vocabJSON: files.vocabJSON, merges: files.merges, paths: ("<embedded>/vocab.json", "<embedded>/merges.txt"))
}

/// A tokenizer whose ids the model cannot embed is bad data (exit 65), the same for every
/// command that pairs the two.
func checkVocabulary(_ tokenizer: BPETokenizer, fits model: GPTModel) throws(ChatError) {
    if tokenizer.vocabularySize > model.config.vocabSize {
        throw ChatError.vocabularyMismatch(tokenizer: tokenizer.vocabularySize, model: model.config.vocabSize)
    }
}
