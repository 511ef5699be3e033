// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "meterview.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// Widest bar drawn, whatever the terminal's width.
#define RTL_CTL_MAX_BAR 1000U

/// " -12.3 CLIP" after a bar, when there is room.
#define RTL_CTL_READOUT_W 12U

#define RTL_CTL_SGR_OFF "\x1b[0m"

typedef enum {
  ZONE_TRACK,  ///< An empty cell
  ZONE_GREEN,  ///< Below -18 dBFS
  ZONE_YELLOW, ///< -18 to -6 dBFS
  ZONE_RED,    ///< -6 dBFS and above, and CLIP
} RtlCtlZone;

static const char* const zone_sgr[] = {"\x1b[90m",
                                       "\x1b[32m",
                                       "\x1b[33m",
                                       "\x1b[31m"};

/// Where each part of the screen goes, for the current size.
typedef struct {
  unsigned width;   ///< Columns used: one short, so no line ever wraps
  unsigned label_w; ///< in_N, L, R
  unsigned bar_w;   ///< 0: too small to draw
  bool     readout; ///< Room for the held peak and CLIP
  unsigned inputs;  ///< Inputs shown (the rest need a taller terminal)
  bool     blank;   ///< A line between the inputs and L, R
  bool     help;
} RtlCtlLayout;

// --- readings ----------------------------------------------------------------

/// The held peak as it shows at `now_ms`: held, then falling.
static float
held(const RtlCtlMeter* const m, const int64_t now_ms)
{
  const int64_t falling = now_ms - m->held_ms - RTL_CTL_HOLD_MS;
  return falling > 0 ? m->hold - RTL_CTL_FALL_DB_S * (float)falling / 1000.0f
                     : m->hold;
}

static bool
resize(RtlCtlMeterView* const v, const unsigned n, const int64_t now_ms)
{
  RtlCtlMeter* const meters =
    (RtlCtlMeter*)realloc(v->meters, n * sizeof(RtlCtlMeter));
  if (!meters) {
    return false;
  }
  for (unsigned i = 0U; i < n; ++i) {
    meters[i] = (RtlCtlMeter){-INFINITY, -INFINITY, now_ms, false};
  }
  v->meters = meters;
  v->n      = n;
  return true;
}

bool
rtl_ctl_meterview_update(RtlCtlMeterView* const v,
                         const float* const     levels,
                         const unsigned         n,
                         const int64_t          now_ms)
{
  // Another count of inputs: a daemon restarted with other options.
  if (n != v->n && !resize(v, n, now_ms)) {
    return false;
  }
  for (unsigned i = 0U; i < n; ++i) {
    RtlCtlMeter* const m = &v->meters[i];
    m->level             = isnan(levels[i]) ? -INFINITY : levels[i];
    if (m->level >= held(m, now_ms)) {
      m->hold    = m->level;
      m->held_ms = now_ms;
    }
    m->clip = m->clip || m->level >= 0.0f;
  }
  return true;
}

void
rtl_ctl_meterview_clear(RtlCtlMeterView* const v)
{
  for (unsigned i = 0U; i < v->n; ++i) {
    v->meters[i].hold = -INFINITY;
    v->meters[i].clip = false;
  }
}

void
rtl_ctl_meterview_free(RtlCtlMeterView* const v)
{
  free(v->meters);
  free(v->buf);
  v->meters = NULL;
  v->buf    = NULL;
  v->n      = 0U;
  v->cap    = 0U;
  v->len    = 0U;
}

// --- the frame buffer --------------------------------------------------------

static void
put(RtlCtlMeterView* const v, const char* const s, const size_t n)
{
  if (v->failed) {
    return;
  }
  if (v->len + n + 1U > v->cap) {
    size_t cap = v->cap ? 2U * v->cap : 8192U;
    while (cap < v->len + n + 1U) {
      cap *= 2U;
    }
    char* const buf = (char*)realloc(v->buf, cap);
    if (!buf) {
      v->failed = true;
      return;
    }
    v->buf = buf;
    v->cap = cap;
  }
  memcpy(v->buf + v->len, s, n);
  v->len += n;
  v->buf[v->len] = '\0';
}

static void
put_s(RtlCtlMeterView* const v, const char* const s)
{
  put(v, s, strlen(s));
}

static void
put_f(RtlCtlMeterView* v, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void
put_f(RtlCtlMeterView* const v, const char* const fmt, ...)
{
  char    text[256];
  va_list args;
  va_start(args, fmt);
  const int n = vsnprintf(text, sizeof(text), fmt, args);
  va_end(args);
  if (n > 0) {
    put(v, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1U);
  }
}

/// Plain text cut to the line's width.
static void
put_cut(RtlCtlMeterView* const v, const char* const s, const unsigned width)
{
  const size_t len = strlen(s);
  put(v, s, len < width ? len : width);
}

static void
line(RtlCtlMeterView* const v, const unsigned row)
{
  put_f(v, "\x1b[%u;1H", row);
}

// --- layout ------------------------------------------------------------------

static RtlCtlLayout
layout(const RtlCtlMeterView* const v)
{
  RtlCtlLayout   l    = {0};
  const unsigned n_in = v->n > 2U ? v->n - 2U : 0U;
  char           label[16];
  l.width = v->cols > 1U ? v->cols - 1U : 1U;
  l.label_w =
    n_in ? (unsigned)snprintf(label, sizeof(label), "in_%u", n_in) : 2U; // "dB"
  l.readout           = l.width >= l.label_w + 1U + 10U + RTL_CTL_READOUT_W;
  const unsigned used = l.label_w + 1U + (l.readout ? RTL_CTL_READOUT_W : 0U);
  l.bar_w             = l.width >= used + 4U ? l.width - used : 0U;
  l.bar_w             = l.bar_w > RTL_CTL_MAX_BAR ? RTL_CTL_MAX_BAR : l.bar_w;

  // Title and scale, then the meters, then a line for the keys (or for
  // what did not fit); a line between the inputs and L/R if there is room.
  unsigned avail = v->rows > 2U ? v->rows - 2U : 0U;
  l.help         = avail >= 3U;
  avail -= l.help ? 1U : 0U;
  l.blank = n_in && avail >= v->n + 1U;
  avail -= l.blank ? 1U : 0U;
  l.inputs = avail > 2U ? (avail - 2U < n_in ? avail - 2U : n_in) : 0U;
  return l;
}

/// The fraction of a bar that `db` fills.
static float
fraction(const float db)
{
  const float f = (db - RTL_CTL_FLOOR_DB) / -RTL_CTL_FLOOR_DB;
  return f > 1.0f ? 1.0f : f > 0.0f ? f : 0.0f;
}

static RtlCtlZone
zone(const unsigned cell, const unsigned bar_w)
{
  const float db =
    RTL_CTL_FLOOR_DB + ((float)cell + 0.5f) / (float)bar_w * -RTL_CTL_FLOOR_DB;
  return db >= -6.0f ? ZONE_RED : db >= -18.0f ? ZONE_YELLOW : ZONE_GREEN;
}

// --- drawing -----------------------------------------------------------------

/// The scale: tick labels ending where a bar at that level ends; the
/// ends first, then every 10 dB, then -6 and -3, each where it fits.
static void
render_scale(RtlCtlMeterView* const v, const RtlCtlLayout* const l)
{
  static const int ticks[] = {0, -60, -10, -20, -30, -40, -50, -6, -3};
  char             text[RTL_CTL_MAX_BAR + 1U];
  memset(text, ' ', l->bar_w);
  text[l->bar_w] = '\0';
  for (size_t i = 0U; i < sizeof(ticks) / sizeof(ticks[0]); ++i) {
    char      tick[8];
    const int len = snprintf(tick, sizeof(tick), "%d", ticks[i]);
    const int end =
      (int)(fraction((float)ticks[i]) * (float)l->bar_w + 0.5f) - 1;
    const int start = end - len + 1 < 0 ? 0 : end - len + 1;
    bool      fits  = start + len <= (int)l->bar_w;
    for (int c = start - 1; fits && c <= start + len; ++c) {
      fits = c < 0 || c >= (int)l->bar_w || text[c] == ' '; // a gap each side
    }
    if (fits) {
      memcpy(text + start, tick, (size_t)len);
    }
  }
  put_f(v, "%-*s %s", (int)l->label_w, "dB", text);
  if (l->readout) {
    put_s(v, "  peak");
  }
}

static void
color(RtlCtlMeterView* const v, int* const current, const RtlCtlZone z)
{
  if (v->color && (int)z != *current) {
    put_s(v, zone_sgr[z]);
    *current = (int)z;
  }
}

/// One cell of a bar `units` long (in eighths of a cell with UTF-8).
static void
render_cell(RtlCtlMeterView* const v,
            const unsigned         cell,
            const unsigned         units,
            const bool             hold_here,
            const bool             clip_here)
{
  static const char* const eighths[] = {
    "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
  const unsigned per  = v->utf8 ? 8U : 1U;
  const unsigned from = cell * per;
  if (units >= from + per) {
    put_s(v, v->utf8 ? "\u2588" : "#");
  } else if (units > from) {
    put_s(v, eighths[units - from]);
  } else if (hold_here) {
    put_s(v, v->utf8 ? "\u2502" : "|");
  } else if (clip_here) {
    put_s(v, "!");
  } else {
    put_s(v, v->utf8 ? "\u00b7" : ".");
  }
}

static void
render_bar(RtlCtlMeterView* const    v,
           const RtlCtlLayout* const l,
           const float               level,
           const float               hold,
           const bool                clip_mark)
{
  const unsigned per = v->utf8 ? 8U : 1U;
  const unsigned units =
    (unsigned)(fraction(level) * (float)(l->bar_w * per) + 0.5f);
  // The last cell a bar at the held peak fills (none: bar_w), drawn if
  // the bar falls short of it.
  const unsigned hold_units =
    (unsigned)(fraction(hold) * (float)(l->bar_w * per) + 0.5f);
  const unsigned hold_cell = hold_units ? (hold_units - 1U) / per : l->bar_w;
  int            current   = -1; // the colour in effect
  for (unsigned c = 0U; c < l->bar_w; ++c) {
    const bool filled    = units > c * per;
    const bool hold_here = c == hold_cell;
    const bool clip_here = clip_mark && c + 1U == l->bar_w;
    color(v,
          &current,
          filled || hold_here || clip_here ? zone(c, l->bar_w) : ZONE_TRACK);
    render_cell(v, c, units, hold_here, clip_here);
  }
  if (v->color) {
    put_s(v, RTL_CTL_SGR_OFF);
  }
}

static void
render_meter(RtlCtlMeterView* const    v,
             const RtlCtlLayout* const l,
             const char* const         label,
             const RtlCtlMeter* const  m,
             const int64_t             now_ms)
{
  const float level = v->stale ? -INFINITY : m->level;
  const float hold  = v->stale ? -INFINITY : held(m, now_ms);
  put_f(v, "%-*s ", (int)l->label_w, label);
  render_bar(v, l, level, hold, m->clip && !l->readout);
  if (!l->readout) {
    return;
  }
  if (hold > -100.0f) {
    put_f(v, " %6.1f", (double)hold);
  } else {
    put_s(v, v->stale ? "       " : "   -inf");
  }
  if (m->clip) {
    put_s(v, v->color ? " \x1b[1;41;97mCLIP" RTL_CTL_SGR_OFF : " CLIP");
  }
}

static unsigned
render_meters(RtlCtlMeterView* const    v,
              const RtlCtlLayout* const l,
              unsigned                  row,
              const int64_t             now_ms)
{
  const unsigned n_in = v->n > 2U ? v->n - 2U : 0U;
  char           label[16];
  for (unsigned i = 0U; i < l->inputs; ++i, ++row) {
    snprintf(label, sizeof(label), "in_%u", i + 1U);
    line(v, row);
    render_meter(v, l, label, &v->meters[i], now_ms);
    put_s(v, "\x1b[K");
  }
  if (l->blank) {
    line(v, row++);
    put_s(v, "\x1b[K");
  }
  for (unsigned i = n_in; i < v->n && row <= v->rows; ++i, ++row) {
    line(v, row);
    render_meter(v, l, i == n_in ? "L" : "R", &v->meters[i], now_ms);
    put_s(v, "\x1b[K");
  }
  return row;
}

static void
render_help(RtlCtlMeterView* const    v,
            const RtlCtlLayout* const l,
            const unsigned            row)
{
  const unsigned n_in = v->n > 2U ? v->n - 2U : 0U;
  char           help[160];
  if (l->inputs < n_in) {
    snprintf(help,
             sizeof(help),
             "%u input%s hidden: make the terminal taller",
             n_in - l->inputs,
             n_in - l->inputs > 1U ? "s" : "");
  } else {
    snprintf(help, sizeof(help), "q or Ctrl-C: quit   c: clear peaks and CLIP");
  }
  line(v, row);
  put_cut(v, help, l->width);
  put_s(v, "\x1b[K");
}

bool
rtl_ctl_meterview_render(RtlCtlMeterView* const v,
                         const int64_t          now_ms,
                         const bool             full)
{
  const RtlCtlLayout l = layout(v);
  v->len               = 0U;
  v->failed            = false;
  put_s(v, full ? "\x1b[2J\x1b[H" : "\x1b[H");
  line(v, 1U);
  put_cut(v, v->title, l.width);
  put_s(v, "\x1b[K");
  if (!l.bar_w || v->rows < 3U) {
    line(v, v->rows > 1U ? 2U : 1U);
    put_cut(v, "(terminal too small)", l.width);
  } else {
    line(v, 2U);
    render_scale(v, &l);
    put_s(v, "\x1b[K");
    const unsigned row = render_meters(v, &l, 3U, now_ms);
    if (l.help && row <= v->rows) {
      render_help(v, &l, row);
    }
  }
  put_s(v, "\x1b[J");
  return !v->failed;
}
