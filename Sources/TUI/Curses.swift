import CNCurses
import FileIO
import FoundationEssentials
import Glibc

/// The thin layer over ncursesw: start and stop, keys, and drawing styled rows. Everything it
/// draws was laid out by the pure functions beside it.
final class Curses {
    enum Key: Equatable {
        case character(Character)
        case control(UInt8)  // ^A = 1 ... ^Z = 26, plus Enter (13) and Tab (9)
        case alt(Character)
        case escape
        case function(Int)  // F1 ... F12
        case up, down, left, right, home, end, pageUp, pageDown, backspace, delete, enter, resize
        case pasteStart, pasteEnd
        case other(Int32)
    }

    let ascii: Bool
    let border: BorderGlyphs
    private(set) var hasColour = false
    private var screen: OpaquePointer?
    private static var pasteStartCode: Int32 { Int32(cn_key_max() + 1) }
    private static var pasteEndCode: Int32 { Int32(cn_key_max() + 2) }

    /// Starts curses on the terminal; nil when the terminal cannot be used (no terminfo entry).
    init?() {
        setlocale(LC_ALL, "")
        ascii = cn_locale_is_utf8() == 0
        border = .forTerminal(ascii: ascii)
        // newterm, not initscr: initscr exits the process when TERM has no terminfo entry.
        guard let s = newterm(nil, cn_stdout(), cn_stdin()) else { return nil }
        screen = s
        set_escdelay(25)
        raw()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        wtimeout(cn_stdscr(), 20)
        if has_colors() {
            start_color()
            use_default_colors()
            hasColour = true
            Self.setUpColours()
        }
        define_key("\u{1B}[200~", Self.pasteStartCode)
        define_key("\u{1B}[201~", Self.pasteEndCode)
        writeRaw("\u{1B}[?2004h")  // bracketed paste on
    }

    /// Restores the terminal. Safe to call twice.
    func stop() {
        guard screen != nil else { return }
        leave()
        delscreen(screen)
        screen = nil
        fflush(cn_stdout())
    }

    /// Gives the terminal back to the shell (bracketed paste off, the main screen, cooked
    /// mode) without ending curses: `stop` and a suspend share it. A terminal without an
    /// alternate screen (vt100, linux: no smcup/rmcup in terminfo) would keep the UI's last
    /// frame under the shell's prompt, so the UI is wiped from it first.
    func leave() {
        writeRaw("\u{1B}[?2004l")
        endwin()
        if !hasAlternateScreen { cn_clear_screen() }
        fflush(cn_stdout())
    }

    /// Takes the terminal again after `leave` (or after the process was stopped and continued
    /// behind our back): curses' modes, bracketed paste, and the whole screen repainted.
    func resume() {
        guard screen != nil else { return }
        reset_prog_mode()
        writeRaw("\u{1B}[?2004h")
        clearok(cn_stdscr(), true)
        wrefresh(cn_stdscr())
    }

    /// terminfo has rmcup: endwin then brings back what the shell showed before.
    private lazy var hasAlternateScreen: Bool = cn_has_alternate_screen() != 0

    var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    /// True once the terminal hung up (its window closed without a SIGHUP reaching us): reads
    /// would fail at once forever, and the loop would spin.
    var terminalGone: Bool {
        var fd = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&fd, 1, 0) >= 0 else { return false }
        return fd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    private var timeout: Int32 = 20

    func setTimeout(milliseconds: Int32) {
        timeout = milliseconds
        wtimeout(cn_stdscr(), milliseconds)
    }

    /// The next key if one arrives within `milliseconds`, leaving the usual timeout as it was.
    func readKey(waiting milliseconds: Int32) -> Key? {
        wtimeout(cn_stdscr(), milliseconds)
        defer { wtimeout(cn_stdscr(), timeout) }
        return readKey()
    }

    private var pushedBack: Key?

    /// Gives `key` back: the next `readKey` returns it (a look at the key behind another).
    func unread(_ key: Key) { pushedBack = key }

    /// The next key, or nil when none arrived within the timeout.
    func readKey() -> Key? {
        if let key = pushedBack {
            pushedBack = nil
            return key
        }
        var ch: wint_t = 0
        let r = wget_wch(cn_stdscr(), &ch)
        if r == ERR { return nil }
        let code = Int32(bitPattern: ch)
        if r == Int32(cn_key_code_yes()) {
            switch code {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_BACKSPACE: return .backspace
            case KEY_DC: return .delete
            case KEY_ENTER: return .enter
            case Int32(cn_key_resize()): return .resize
            case Self.pasteStartCode: return .pasteStart
            case Self.pasteEndCode: return .pasteEnd
            default:
                for n in 1...12 where code == Int32(cn_key_f(Int32(n))) { return .function(n) }
                return .other(code)
            }
        }
        switch code {
        case 27:
            // Alt-x arrives as ESC x; a lone ESC has nothing right behind it.
            wtimeout(cn_stdscr(), 0)
            defer { wtimeout(cn_stdscr(), timeout) }
            var next: wint_t = 0
            if wget_wch(cn_stdscr(), &next) == OK, let s = Unicode.Scalar(UInt32(next)), next >= 0x20 {
                return .alt(Character(s))
            }
            return .escape
        case 127, 8: return .backspace
        case 13, 10: return .enter
        case 0..<32: return .control(UInt8(code))
        default:
            guard let s = Unicode.Scalar(UInt32(code)) else { return .other(code) }
            return .character(Character(s))
        }
    }

    // MARK: Drawing

    func erase() { werase(cn_stdscr()) }

    /// Draws `line` at (row, col), clipped to `width` cells.
    func draw(_ line: StyledLine, row: Int, col: Int, width: Int) {
        var x = col
        for segment in line.clipped(to: width) {
            let text = ascii ? TextWidth.asciiOnly(segment.text) : segment.text
            setStyle(segment.style)
            var wide = text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
            wide.append(0)
            mvwaddnwstr(cn_stdscr(), Int32(row), Int32(x), wide, Int32(wide.count - 1))
            x += TextWidth.of(text)
        }
        setStyle(.plain)
    }

    /// Fills a row with `style` (the status bar's background).
    func fill(row: Int, col: Int, width: Int, style: Style) {
        draw([Segment(String(repeating: " ", count: max(0, width)), style)], row: row, col: col, width: width)
    }

    /// A border around `rect` with `title` in its top edge.
    func box(_ rect: Rect, title: String) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let h = String(border.horizontal), v = String(border.vertical)
        let inner = rect.width - 2
        let t = TextWidth.prefix(ascii ? TextWidth.asciiOnly(title) : title, fitting: max(0, inner - 1))
        let top = String(border.topLeft) + h + t + String(repeating: h, count: max(0, inner - 1 - TextWidth.of(t))) + String(border.topRight)
        draw([Segment(String(border.topLeft) + h, .border), Segment(t, .title),
              Segment(String(top.dropFirst(2 + t.count)), .border)], row: rect.row, col: rect.col, width: rect.width)
        for r in 1..<(rect.height - 1) {
            draw([Segment(v, .border)], row: rect.row + r, col: rect.col, width: 1)
            draw([Segment(v, .border)], row: rect.row + r, col: rect.col + rect.width - 1, width: 1)
        }
        let bottom = String(border.bottomLeft) + String(repeating: h, count: inner) + String(border.bottomRight)
        draw([Segment(bottom, .border)], row: rect.row + rect.height - 1, col: rect.col, width: rect.width)
    }

    func placeCursor(row: Int, col: Int, visible: Bool) {
        curs_set(visible ? 1 : 0)
        wmove(cn_stdscr(), Int32(row), Int32(col))
    }

    /// Sends the frame: ncurses writes only the cells that changed since the last one.
    func refresh() { wrefresh(cn_stdscr()) }

    /// Forgets what the terminal shows and repaints it all (^L).
    func repaintAll() { clearok(cn_stdscr(), true) }

    // MARK: Styles

    private enum Pair: Int16 {
        case userLabel = 1, notice, border, status, title, heat1, heat2, heat3, heat4, p0, p1, p2, p3, p4
    }

    private static func setUpColours() {
        let black: Int16 = 0, red: Int16 = 1, green: Int16 = 2, yellow: Int16 = 3, blue: Int16 = 4, magenta: Int16 = 5, cyan: Int16 = 6, white: Int16 = 7
        init_pair(Pair.userLabel.rawValue, cyan, -1)
        init_pair(Pair.notice.rawValue, yellow, -1)
        init_pair(Pair.border.rawValue, blue, -1)
        init_pair(Pair.status.rawValue, black, cyan)
        init_pair(Pair.title.rawValue, magenta, -1)
        init_pair(Pair.heat1.rawValue, white, blue)
        init_pair(Pair.heat2.rawValue, black, cyan)
        init_pair(Pair.heat3.rawValue, black, yellow)
        init_pair(Pair.heat4.rawValue, black, red)
        init_pair(Pair.p0.rawValue, red, -1)
        init_pair(Pair.p1.rawValue, magenta, -1)
        init_pair(Pair.p2.rawValue, yellow, -1)
        init_pair(Pair.p3.rawValue, -1, -1)
        init_pair(Pair.p4.rawValue, green, -1)
    }

    private func setStyle(_ style: Style) {
        var attrs = cn_a_normal()
        var pair: Pair?
        switch style {
        case .plain, .bot, .user: break
        case .userLabel: pair = .userLabel; attrs |= cn_a_bold()
        case .botLabel: attrs |= cn_a_bold()
        case .notice: pair = .notice; if !hasColour { attrs |= cn_a_dim() }
        case .border: pair = .border
        case .title: pair = .title; attrs |= cn_a_bold()
        case .status: pair = .status; if !hasColour { attrs |= cn_a_reverse() }
        case .help: attrs |= cn_a_dim()
        case .heat(let level):
            if hasColour {
                pair = [nil, .heat1, .heat2, .heat3, .heat4][min(4, max(0, level))]
            } else {
                attrs |= [cn_a_normal(), cn_a_underline(), cn_a_bold(), cn_a_reverse(), cn_a_reverse() | cn_a_bold()][min(4, max(0, level))]
            }
        case .probability(let level):
            if hasColour {
                pair = [.p0, .p1, .p2, .p3, .p4][min(4, max(0, level))]
            } else if level <= 1 {
                attrs |= cn_a_underline()
            }
        }
        wattr_set(cn_stdscr(), attr_t(UInt32(bitPattern: attrs)), hasColour ? (pair?.rawValue ?? 0) : 0, nil)
    }

    /// Bytes for the terminal itself (mode switches), outside curses' own output.
    private func writeRaw(_ text: String) {
        fflush(cn_stdout())
        UncheckedOutput.write(text, to: STDOUT_FILENO)  // FileHandle.write traps on a hung-up terminal
    }
}
