// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "commands.h"
#include "meterview.h"
#include "output.h"
#include "term.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/// How often a loop wakes without replies: keys, resizes and the falling
/// peaks are followed at this pace.
#define RTL_CTL_TICK_MS 50

#define RTL_CTL_METER_HZ_DEFAULT 20
#define RTL_CTL_METER_HZ_MAX 100

/// Signals only raise these flags; the loops look at them each tick.
static volatile sig_atomic_t quit_asked;
static volatile sig_atomic_t resized;
static volatile sig_atomic_t suspend_asked;

static void
on_quit(const int sig)
{
  (void)sig;
  quit_asked = 1;
}

static void
on_winch(const int sig)
{
  (void)sig;
  resized = 1;
}

static void
on_tstp(const int sig)
{
  (void)sig;
  suspend_asked = 1;
}

static void
catch_signal(const int sig, void (*const handler)(int))
{
  // No SA_RESTART: a wait for replies returns at once.
  struct sigaction sa = {0};
  sa.sa_handler       = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static void
catch_quit(void)
{
  catch_signal(SIGINT, on_quit);
  catch_signal(SIGTERM, on_quit);
  catch_signal(SIGHUP, on_quit);
}

// --- subscriptions -----------------------------------------------------------

static RtlCtlExit
send_subscribe(RtlCtlClient* const c, const char* const topic, const int hz)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return rtl_ctl_fail(RTL_CTL_FAILED, "out of memory");
  }
  lo_message_add_string(msg, topic);
  if (hz) {
    lo_message_add_int32(msg, hz);
  }
  const RtlCtlExit st = rtl_ctl_send(c, "/subscribe", msg);
  lo_message_free(msg);
  return st;
}

/// Subscribe, and wait until the daemon has taken it (or refused it).
static RtlCtlExit
subscribe(RtlCtlClient* const c, const char* const topic, const int hz)
{
  const RtlCtlExit st = send_subscribe(c, topic, hz);
  return st ? st : rtl_ctl_sync(c);
}

/**
   Unsubscribe, and give the daemon the timeout to confirm, quietly: over
   UDP a lost datagram would leave it sending to a port nobody reads.
*/
static void
unsubscribe(RtlCtlClient* const c, const char* const topic)
{
  if (rtl_ctl_send_s(c, "/unsubscribe", topic) || rtl_ctl_send_sync(c)) {
    return;
  }
  const int64_t deadline = rtl_ctl_now_ms() + c->opts.timeout_ms;
  while (rtl_ctl_now_ms() < deadline) {
    RtlCtlReply* const r    = rtl_ctl_next(c, RTL_CTL_TICK_MS);
    const bool         done = r && rtl_ctl_is_synced(c, r);
    free(r);
    if (done) {
      return;
    }
  }
}

/// After a line to stdout: false once it cannot be written.  A reader
/// that went away (a pipe into head) ends the run like Ctrl-C.
static bool
flushed(RtlCtlExit* const st)
{
  if (!fflush(stdout) && !ferror(stdout)) {
    return true;
  }
  // errno is the failed write's (this fflush's, or the line's before it).
  if (errno != EPIPE) {
    *st = rtl_ctl_fail(RTL_CTL_FAILED, "stdout: %s", strerror(errno));
  }
  return false;
}

// --- watch -------------------------------------------------------------------

RtlCtlExit
rtl_ctl_watch(RtlCtlClient* const c, const int argc, char** const argv)
{
  (void)argc;
  (void)argv;
  RtlCtlExit st = subscribe(c, "state", 0);
  if (st) {
    return st;
  }
  catch_quit();
  while (!quit_asked && !st) {
    RtlCtlReply* const r = rtl_ctl_next(c, RTL_CTL_TICK_MS);
    if (!r) {
      continue;
    }
    if (rtl_ctl_is(r, "/error", NULL)) {
      st = rtl_ctl_refused(c, r);
    } else if (rtl_ctl_is(r, "/state", NULL) && r->argc >= 1) {
      if (c->opts.json) {
        rtl_ctl_print_json(stdout, r);
      } else {
        rtl_ctl_print_args(stdout, r, 0);
      }
      quit_asked = quit_asked || !flushed(&st);
    }
    free(r);
  }
  unsubscribe(c, "state");
  return st;
}

// --- meters ------------------------------------------------------------------

typedef struct {
  RtlCtlClient*   c;
  int             hz;
  bool            tty;
  int64_t         last_reading_ms;
  int64_t         last_ask_ms;
  int64_t         last_draw_ms;
  bool            redraw_all;
  RtlCtlMeterView view;
  float*          levels;
  unsigned        n_levels;
} RtlCtlMeters;

/// The levels of a /meters reply (every argument a float), or false.
static bool
read_levels(RtlCtlMeters* const m, const RtlCtlReply* const r)
{
  if (!rtl_ctl_is(r, "/meters", NULL) || r->argc < 2 ||
      strspn(r->types, "f") != (size_t)r->argc) {
    return false;
  }
  if ((unsigned)r->argc > m->n_levels) {
    float* const levels =
      (float*)realloc(m->levels, (size_t)r->argc * sizeof(float));
    if (!levels) {
      return false;
    }
    m->levels = levels;
  }
  m->n_levels = (unsigned)r->argc;
  for (int i = 0; i < r->argc; ++i) {
    m->levels[i] = (float)r->argv[i].f;
  }
  return true;
}

/// One line per reading: in_1 -6.0 in_2 -inf L -9.0 R -9.0
static void
print_plain(const RtlCtlMeters* const m)
{
  const unsigned n_in = m->n_levels - 2U;
  for (unsigned i = 0U; i < m->n_levels; ++i) {
    if (i < n_in) {
      printf("%sin_%u ", i ? " " : "", i + 1U);
    } else {
      printf(" %s ", i == n_in ? "L" : "R");
    }
    if (m->levels[i] > -1000.0f) {
      printf("%.1f", (double)m->levels[i]);
    } else {
      fputs("-inf", stdout);
    }
  }
  putchar('\n');
}

static void
set_title(RtlCtlMeters* const m, const bool stale)
{
  const RtlCtlOptions* const o = &m->c->opts;
  snprintf(m->view.title,
           sizeof(m->view.title),
           "rtlane meters  %s:%s%s  %d Hz  peak dBFS%s",
           o->host,
           o->port,
           o->tcp ? " (TCP)" : "",
           m->hz,
           stale ? "  -- no readings, asking again" : "");
}

static bool
draw(RtlCtlMeters* const m, const int64_t now)
{
  if (resized) {
    resized       = 0;
    m->redraw_all = true;
  }
  rtl_ctl_term_size(&m->view.cols, &m->view.rows);
  if (!rtl_ctl_meterview_render(&m->view, now, m->redraw_all) ||
      !rtl_ctl_term_write(m->view.buf, m->view.len)) {
    return false;
  }
  m->redraw_all   = false;
  m->last_draw_ms = now;
  return true;
}

/// Ctrl-Z: give the terminal back while stopped, take it again after.
static void
suspend(RtlCtlMeters* const m)
{
  suspend_asked = 0;
  rtl_ctl_term_leave();
  signal(SIGTSTP, SIG_DFL);
  raise(SIGTSTP);
  catch_signal(SIGTSTP, on_tstp);
  rtl_ctl_term_enter();
  m->redraw_all = true;
}

static void
read_keys(RtlCtlMeters* const m)
{
  int key = 0;
  while ((key = rtl_ctl_term_key()) >= 0) {
    if (key == 'q' || key == 'Q') {
      quit_asked = 1;
    } else if (key == 'c' || key == 'C') {
      rtl_ctl_meterview_clear(&m->view);
    } else if (key == '\f') { // Ctrl-L, as in other full-screen programs
      m->redraw_all = true;
    }
  }
}

/// Take one reply; the /error that ends the run is handed back.
static RtlCtlExit
take_reply(RtlCtlMeters* const m,
           RtlCtlReply* const  r,
           RtlCtlReply** const error)
{
  if (rtl_ctl_is(r, "/error", NULL)) {
    *error = r;
    return RTL_CTL_REFUSED;
  }
  RtlCtlExit st = RTL_CTL_OK;
  if (read_levels(m, r)) {
    m->last_reading_ms = rtl_ctl_now_ms();
    if (m->c->opts.json) {
      rtl_ctl_print_json(stdout, r);
    } else if (!m->tty) {
      print_plain(m);
    } else if (!rtl_ctl_meterview_update(
                 &m->view, m->levels, m->n_levels, m->last_reading_ms)) {
      st = RTL_CTL_FAILED;
    }
    if (!m->tty && !flushed(&st)) {
      quit_asked = 1;
    }
  }
  free(r);
  return st;
}

/**
   A daemon that restarted has forgotten us: when readings stop for the
   timeout, show the bars empty and subscribe again (once per timeout).
*/
static RtlCtlExit
keep_subscribed(RtlCtlMeters* const m, const int64_t now)
{
  // Three readings missed at a slow rate are not yet silence.
  const long period = 1000L / m->hz;
  const long timeout =
    m->c->opts.timeout_ms > 3L * period ? m->c->opts.timeout_ms : 3L * period;
  const bool stale = now - m->last_reading_ms >= timeout;
  if (stale != m->view.stale) {
    m->view.stale = stale;
    set_title(m, stale);
  }
  if (!stale || now - m->last_ask_ms < timeout) {
    return RTL_CTL_OK;
  }
  m->last_ask_ms = now;
  return send_subscribe(m->c, "meters", m->hz);
}

/// Take every reply waiting (after a stop, Ctrl-Z, there may be many),
/// then draw once.  True if there was any.
static bool
take_replies(RtlCtlMeters* const m,
             RtlCtlExit* const   st,
             RtlCtlReply** const error)
{
  RtlCtlReply* r   = rtl_ctl_next(m->c, RTL_CTL_TICK_MS);
  const bool   any = r != NULL;
  while (r && !*st) {
    *st = take_reply(m, r, error);
    r   = *st ? NULL : rtl_ctl_next(m->c, 0);
  }
  return any;
}

static RtlCtlExit
meters_loop(RtlCtlMeters* const m, RtlCtlReply** const error)
{
  RtlCtlExit st = RTL_CTL_OK;
  while (!quit_asked && !st) {
    const bool    any = take_replies(m, &st, error);
    const int64_t now = rtl_ctl_now_ms();
    if (!st) {
      st = keep_subscribed(m, now);
    }
    if (!m->tty || st) {
      continue;
    }
    if (suspend_asked) {
      suspend(m);
    }
    read_keys(m);
    // On readings, and at the tick for the falling peaks.
    if ((any || resized || m->redraw_all ||
         now - m->last_draw_ms >= RTL_CTL_TICK_MS) &&
        !draw(m, now)) {
      st = RTL_CTL_FAILED;
    }
  }
  return st;
}

static bool
utf8_locale(void)
{
  setlocale(LC_CTYPE, "");
  return !strcmp(nl_langinfo(CODESET), "UTF-8");
}

static bool
want_color(void)
{
  const char* const term     = getenv("TERM");
  const char* const no_color = getenv("NO_COLOR");
  return term && strcmp(term, "dumb") && !(no_color && no_color[0]);
}

/// The terminal view, set up and always undone.
static RtlCtlExit
meters_view(RtlCtlMeters* const m, RtlCtlReply** const error)
{
  m->view.utf8  = utf8_locale();
  m->view.color = want_color();
  set_title(m, false);
  catch_signal(SIGWINCH, on_winch);
  catch_signal(SIGTSTP, on_tstp);
  if (!rtl_ctl_term_enter()) {
    rtl_ctl_term_leave();
    return rtl_ctl_fail(RTL_CTL_FAILED, "cannot set up the terminal");
  }
  m->redraw_all       = true;
  const RtlCtlExit st = meters_loop(m, error);
  rtl_ctl_term_leave();
  signal(SIGTSTP, SIG_DFL);
  return st;
}

static bool
parse_hz(const char* const text, int* const hz)
{
  char*      end = NULL;
  const long v   = strtol(text, &end, 10);
  *hz            = (int)v;
  return end != text && !*end && v >= 1 && v <= RTL_CTL_METER_HZ_MAX;
}

RtlCtlExit
rtl_ctl_meters(RtlCtlClient* const c, const int argc, char** const argv)
{
  RtlCtlMeters m = {0};
  m.c            = c;
  m.hz           = RTL_CTL_METER_HZ_DEFAULT;
  if (argc && !parse_hz(argv[0], &m.hz)) {
    return rtl_ctl_fail(RTL_CTL_USAGE,
                        "meters: HZ must be 1..%d, not '%s'",
                        RTL_CTL_METER_HZ_MAX,
                        argv[0]);
  }
  RtlCtlExit st = subscribe(c, "meters", m.hz);
  if (st) {
    return st;
  }
  catch_quit();
  m.tty              = !c->opts.json && isatty(STDOUT_FILENO);
  m.last_reading_ms  = rtl_ctl_now_ms();
  m.last_ask_ms      = m.last_reading_ms;
  RtlCtlReply* error = NULL;
  st = m.tty ? meters_view(&m, &error) : meters_loop(&m, &error);
  // Said once the terminal is back, where it can be read.
  if (error) {
    st = rtl_ctl_refused(c, error);
    free(error);
  } else if (st == RTL_CTL_FAILED && m.tty) {
    rtl_ctl_fail(st, "out of memory or cannot write to the terminal");
  }
  unsubscribe(c, "meters");
  rtl_ctl_meterview_free(&m.view);
  free(m.levels);
  return st;
}
