// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_CTL_METERVIEW_H
#define RTL_CTL_METERVIEW_H

/*
  The meters as a screen: a title, a dB scale, then one horizontal bar per
  input and for L and R, each with a peak-hold marker, the held peak in
  dBFS and a clip marker.  The view only turns readings and a size into
  the bytes of one frame; term.c puts them on the terminal.

  Peaks are held for RTL_CTL_HOLD_MS, then fall at RTL_CTL_FALL_DB_S; a
  reading at or above 0 dBFS lights CLIP until rtl_ctl_meterview_clear().
*/

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTL_CTL_FLOOR_DB (-60.0f) ///< The left end of the bars
#define RTL_CTL_HOLD_MS 1500
#define RTL_CTL_FALL_DB_S 20.0f

typedef struct {
  float   level; ///< The latest reading, dBFS
  float   hold;  ///< The peak held, dBFS, when it was reached
  int64_t held_ms;
  bool    clip; ///< 0 dBFS or more since the last clear
} RtlCtlMeter;

typedef struct {
  RtlCtlMeter* meters; ///< The inputs, then L, then R
  unsigned     n;
  unsigned     cols;
  unsigned     rows;
  bool         utf8;  ///< Block characters rather than ASCII
  bool         color; ///< Green, yellow and red zones
  bool         stale; ///< No readings lately: empty bars
  char         title[160];
  char*        buf; ///< The frame rendered last
  size_t       len;
  size_t       cap;
  bool         failed; ///< Out of memory while rendering
} RtlCtlMeterView;

/// Take a reading of `n` levels (inputs, L, R).  False if out of memory.
bool
rtl_ctl_meterview_update(RtlCtlMeterView* v,
                         const float*     levels,
                         unsigned         n,
                         int64_t          now_ms);

/// Forget the held peaks and the clip markers.
void
rtl_ctl_meterview_clear(RtlCtlMeterView* v);

/// Render the frame for `v->cols` x `v->rows` into `v->buf`, `v->len`
/// bytes (drawn over the last one; `full` clears the screen first).
bool
rtl_ctl_meterview_render(RtlCtlMeterView* v, int64_t now_ms, bool full);

void
rtl_ctl_meterview_free(RtlCtlMeterView* v);

#endif // RTL_CTL_METERVIEW_H
