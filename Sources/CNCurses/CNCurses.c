// The shim is header-only but for the terminfo queries below (term.h's capability macros,
// `lines` and `columns` among them, stay out of the header Swift imports).
#include "CNCurses.h"
#if __has_include(<ncursesw/term.h>)
#include <ncursesw/term.h>
#else
#include <term.h>
#endif

int cn_has_alternate_screen(void) {
    const char *s = tigetstr("rmcup");
    return s != NULL && s != (const char *)-1 && s[0] != 0;
}

void cn_clear_screen(void) {
    const char *s = tigetstr("clear");
    if (s != NULL && s != (const char *)-1) putp(s);
}
