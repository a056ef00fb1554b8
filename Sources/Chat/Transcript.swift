import FileIO
import Foundation

/// The plain, readable transcript format:
///
///     # attnchat transcript, 2026-11-27 13:05:00 +0000, model gpt2
///
///     [user]
///     hi! how are you doing today?
///
///     [bot]
///     Pretty good, how about you?
///
/// An interrupted reply's header reads `[bot, interrupted]`. Control characters are made inert.
public enum Transcript {
    public static func render(_ turns: [Turn], modelName: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        var text = "# attnchat transcript, \(formatter.string(from: date)), model \(modelName)\n"
        for turn in turns {
            text += "\n[\(turn.role.rawValue)\(turn.interrupted ? ", interrupted" : "")]\n"
            text += TerminalSafe.inert(turn.text)
            if !turn.text.hasSuffix("\n") { text += "\n" }
        }
        return text
    }

    /// Writes the transcript atomically: the previous file stays intact if anything fails.
    /// (A failed fsync of the directory after the rename is not reported: the file is saved.)
    public static func save(_ turns: [Turn], modelName: String, date: Date = Date(), to path: String) throws(ChatError) {
        do {
            try AtomicFile.write(Array(render(turns, modelName: modelName, date: date).utf8), to: path, requireDirectorySync: false)
        } catch {
            throw .transcript(path: path, reason: error.description)
        }
    }
}
