// ncursesw for Swift: the wide-character API, plus `static inline` accessors for what Swift
// cannot import (C globals such as stdscr/LINES/COLS, function-like macros such as COLOR_PAIR,
// and attribute constants built from NCURSES_BITS). No Swift API lives here.
#ifndef CNCURSES_H
#define CNCURSES_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <stdio.h>
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#if __has_include(<ncursesw/curses.h>)
#include <ncursesw/curses.h>
#else
#include <curses.h>
#endif

static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline FILE *cn_stdout(void) { return stdout; }
static inline FILE *cn_stdin(void) { return stdin; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pair(int n) { return (int)COLOR_PAIR(n); }

static inline int cn_a_normal(void) { return (int)A_NORMAL; }
static inline int cn_a_bold(void) { return (int)A_BOLD; }
static inline int cn_a_dim(void) { return (int)A_DIM; }
static inline int cn_a_reverse(void) { return (int)A_REVERSE; }
static inline int cn_a_underline(void) { return (int)A_UNDERLINE; }

static inline int cn_key_resize(void) { return KEY_RESIZE; }
static inline int cn_key_f(int n) { return KEY_F(n); }
static inline int cn_key_max(void) { return KEY_MAX; }
static inline int cn_key_code_yes(void) { return KEY_CODE_YES; }

/// True when the current locale's character set is UTF-8 (after setlocale(LC_ALL, "")).
static inline int cn_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (cs[0] == 'U' || cs[0] == 'u') && (cs[1] == 'T' || cs[1] == 't') && (cs[2] == 'F' || cs[2] == 'f');
}

/// True when the terminal's terminfo entry has rmcup: it has an alternate screen, and endwin
/// brings back what the shell showed (vt100 and linux have none).
int cn_has_alternate_screen(void);
/// Sends terminfo's `clear` (the screen blanked, the cursor at the top left); after endwin.
void cn_clear_screen(void);

#endif
