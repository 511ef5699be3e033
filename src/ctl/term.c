// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "term.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/// Alternate screen, cursor hidden, screen cleared.
#define RTL_CTL_TERM_ENTER "\x1b[?1049h\x1b[?25l\x1b[2J"

/// Colours off, cursor shown, back to the normal screen.
#define RTL_CTL_TERM_LEAVE "\x1b[0m\x1b[?25h\x1b[?1049l"

/// One terminal per process: static, so that exit() can restore it too.
static struct {
  bool           entered;
  bool           keys; ///< stdin is a terminal we set to raw keys
  bool           at_exit;
  struct termios saved;
} term;

bool
rtl_ctl_term_write(const char* data, size_t size)
{
  while (size) {
    const ssize_t n = write(STDOUT_FILENO, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= (size_t)n;
  }
  return true;
}

bool
rtl_ctl_term_enter(void)
{
  if (term.entered || !isatty(STDOUT_FILENO)) {
    return term.entered;
  }
  if (!term.at_exit) {
    term.at_exit = !atexit(rtl_ctl_term_leave);
  }
  term.keys = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &term.saved);
  if (term.keys) {
    // Keys as they are typed, unechoed, so they never scribble over the
    // bars; ISIG stays, so Ctrl-C is still SIGINT.
    struct termios raw = term.saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN]  = 0;
    raw.c_cc[VTIME] = 0;
    term.keys       = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  term.entered = true;
  return rtl_ctl_term_write(RTL_CTL_TERM_ENTER, strlen(RTL_CTL_TERM_ENTER));
}

void
rtl_ctl_term_leave(void)
{
  if (!term.entered) {
    return;
  }
  term.entered = false;
  (void)rtl_ctl_term_write(RTL_CTL_TERM_LEAVE, strlen(RTL_CTL_TERM_LEAVE));
  if (term.keys) {
    // Keys typed meanwhile are dropped rather than left for the shell.
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &term.saved);
    term.keys = false;
  }
}

void
rtl_ctl_term_size(unsigned* const cols, unsigned* const rows)
{
  struct winsize ws = {0};
  const bool     ok =
    !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row;
  *cols = ok ? ws.ws_col : 80U;
  *rows = ok ? ws.ws_row : 24U;
}

int
rtl_ctl_term_key(void)
{
  unsigned char key = 0U;
  return term.keys && read(STDIN_FILENO, &key, 1U) == 1 ? (int)key : -1;
}
