/// A rectangle of terminal cells; rows and columns from 0 at the top left.
public struct Rect: Equatable, Sendable {
    public var row, col, width, height: Int
    public init(row: Int, col: Int, width: Int, height: Int) {
        (self.row, self.col, self.width, self.height) = (row, col, width, height)
    }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public func contains(row r: Int, col c: Int) -> Bool { r >= row && r < row + height && c >= col && c < col + width }
    public func intersects(_ o: Rect) -> Bool {
        !isEmpty && !o.isEmpty && row < o.row + o.height && o.row < row + height && col < o.col + o.width && o.col < col + width
    }
}

/// Where everything goes on a `width` x `height` terminal:
///
///     ┌──────────────────────────────┬─ attention ─┐
///     │ transcript                   │ pane        │   rows 0 ..< height-3
///     ├──────────────────────────────┴─────────────┤
///     │ status bar                                 │   row height-3
///     │ input line                                 │   row height-2
///     │ help line                                  │   row height-1
///
/// The attention pane (with its border) takes the right part of the transcript rows when the
/// terminal is at least `paneMinimumWidth` wide and the rows leave room for it; below
/// `minimumWidth` x `minimumHeight` nothing but a "too small" notice is drawn.
public struct ScreenLayout: Equatable, Sendable {
    public static let minimumWidth = 20
    public static let minimumHeight = 5
    /// Narrower terminals hide the attention pane.
    public static let paneMinimumWidth = 72
    /// The pane needs its border plus this many rows.
    static let paneMinimumRows = 3

    public let width: Int
    public let height: Int
    public let tooSmall: Bool
    public let transcript: Rect
    /// The attention pane including its border; nil when hidden.
    public let pane: Rect?
    public let status: Rect
    public let input: Rect
    public let help: Rect

    public init(width: Int, height: Int, showPane: Bool = true) {
        self.width = max(0, width)
        self.height = max(0, height)
        let empty = Rect(row: 0, col: 0, width: 0, height: 0)
        guard width >= Self.minimumWidth && height >= Self.minimumHeight else {
            tooSmall = true
            transcript = empty
            pane = nil
            (status, input, help) = (empty, empty, empty)
            return
        }
        tooSmall = false
        let rows = height - 3
        status = Rect(row: rows, col: 0, width: width, height: 1)
        input = Rect(row: rows + 1, col: 0, width: width, height: 1)
        help = Rect(row: rows + 2, col: 0, width: width, height: 1)
        if showPane && width >= Self.paneMinimumWidth && rows >= Self.paneMinimumRows + 2 {
            let paneWidth = min(64, max(30, width * 2 / 5))
            pane = Rect(row: 0, col: width - paneWidth, width: paneWidth, height: rows)
            transcript = Rect(row: 0, col: 0, width: width - paneWidth, height: rows)
        } else {
            pane = nil
            transcript = Rect(row: 0, col: 0, width: width, height: rows)
        }
    }

    /// The notice shown instead of the UI when the terminal is too small: wrapped to the width,
    /// cut to the height.
    public var tooSmallNotice: [String] {
        let text = "terminal too small: \(width)x\(height), need \(Self.minimumWidth)x\(Self.minimumHeight)"
        return wrap([Segment(text)], width: width).prefix(height).map(\.plainText)
    }
}
