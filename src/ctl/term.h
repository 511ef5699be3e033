// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_CTL_TERM_H
#define RTL_CTL_TERM_H

/*
  The terminal, for the meters: the alternate screen without a cursor,
  keys read one at a time without echo (Ctrl-C still interrupts), and all
  of it undone on the way out, whichever way that is (rtl_ctl_term_leave,
  or exit()).  ANSI/ECMA-48 sequences only, so no curses library.
*/

#include <stdbool.h>
#include <stddef.h>

/// Take the terminal over.  False if stdout is not a terminal.
bool
rtl_ctl_term_enter(void);

/// Give the terminal back as it was; nothing if it was not taken.
void
rtl_ctl_term_leave(void);

/// The terminal's size, or 80x24 if it does not say.
void
rtl_ctl_term_size(unsigned* cols, unsigned* rows);

/// The next key pressed, or -1 (none, or stdin is not a terminal).
int
rtl_ctl_term_key(void);

/// Write all of `data` to the terminal.  False on failure.
bool
rtl_ctl_term_write(const char* data, size_t size);

#endif // RTL_CTL_TERM_H
