// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_STATEFILE_H
#define RTL_DAEMON_STATEFILE_H

/*
  Saved state: the OSC address space itself, one setting per line.

    # rtlane state
    /ch/1/gain f -6
    /ch/1/mute i 0
    /midi/map is 7 /ch/1/gain
    /latency/set f 50
    /record/format s float

  A line is an address, its type tags and its arguments, separated by
  blanks; a string with blanks (or an empty one) is written in double
  quotes.  Blank lines and lines starting with '#' are comments.  Reading
  turns every line into an OSC message and passes it through the same
  checks as live OSC (request.c), so a file can hold nothing a controller
  could not send; only settings are allowed (parameters, /midi/map,
  /latency/set, /record/format).  One bad line and the whole file is
  refused, with that line's number and reason.

  Writing is atomic: a temporary file in the same directory, fsync, rename
  over the old file, fsync of the directory.  A crash leaves the old file
  or the new one, never half of one.

  Control thread (and start-up, before it runs).
*/

#include "comm.h"
#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>

/// What a state file holds besides the model's values and CC map.
typedef struct {
  double          latency_ms; ///< Write-ahead delay; 0: none (direct mode)
  RtlSampleFormat record_format;
} RtlStateExtras;

/**
   Read `name` (relative to `dir_fd`, which may be AT_FDCWD) into at most
   `max` validated commands.  On failure `err` holds one line: "LINE: reason"
   for a bad line, or why the file could not be read; RTL_BAD_ARG for a bad
   line, RTL_FAILURE for a file that cannot be read.
*/
RtlStatus
rtl_statefile_read(const RtlParamTable* table,
                   int                  dir_fd,
                   const char*          name,
                   RtlCommand*          commands,
                   size_t               max,
                   size_t*              n,
                   char*                err,
                   size_t               err_size);

/**
   Write the model's values, its CC map and `extras` to `name` (relative to
   `dir_fd`) atomically.  On failure `err` holds the reason.
*/
RtlStatus
rtl_statefile_write(const RtlModel*       model,
                    const RtlStateExtras* extras,
                    int                   dir_fd,
                    const char*           name,
                    char*                 err,
                    size_t                err_size);

/// Lines a state file of `table` can hold at most: every parameter, every
/// CC mapping and the extras.
size_t
rtl_statefile_max_lines(const RtlParamTable* table);

#endif // RTL_DAEMON_STATEFILE_H
