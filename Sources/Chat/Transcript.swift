import FileIO
import FoundationEssentials
import Glibc

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
        var text = "# attnchat transcript, \(timestamp(date)), model \(modelName)\n"
        for turn in turns {
            text += "\n[\(turn.role.rawValue)\(turn.interrupted ? ", interrupted" : "")]\n"
            text += TerminalSafe.inert(turn.text)
            if !turn.text.hasSuffix("\n") { text += "\n" }
        }
        return text
    }

    /// `date` in the local time zone as "2026-11-27 13:05:00 +0000" (strftime's "%Y-%m-%d %H:%M:%S %z").
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var local = tm()
        localtime_r(&seconds, &local)
        var bytes = [CChar](repeating: 0, count: 64)
        let length = strftime(&bytes, bytes.count, "%Y-%m-%d %H:%M:%S %z", &local)
        return String(decoding: bytes.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes the transcript atomically: the previous file stays intact if anything fails.
    /// (A failed fsync of the directory after the rename is not reported: the file is saved.)
    /// - Parameter existing: whether a file already at `path` may be replaced.
    /// - Throws: `.transcript` when the write fails (74), `.outputRefused` when `AtomicFile`'s
    ///   policy refuses `path` (73): a file under `.refuse`, a directory, device, FIFO or socket.
    public static func save(_ turns: [Turn], modelName: String, date: Date = Date(), to path: String, existing: AtomicFile.Existing) throws(ChatError) {
        do {
            try AtomicFile.write(Array(render(turns, modelName: modelName, date: date).utf8), to: path, existing: existing, requireDirectorySync: false)
        } catch {
            if case .system = error { throw .transcript(path: path, reason: error.description) }
            throw .outputRefused(error)
        }
    }

    /// `/save PATH` and `/save! PATH` in both front ends: never replaces a file unless `replace`
    /// (`/save!`). Returns the line to show: where it was saved, or why not.
    public static func saveCommand(_ turns: [Turn], modelName: String, to path: String, replace: Bool) -> String {
        do {
            try save(turns, modelName: modelName, to: path, existing: replace ? .replace : .refuse(hint: "/save! \(path) replaces it"))
            return "(transcript saved to \(path))"
        } catch {
            return "attnchat: \(error)"
        }
    }
}
