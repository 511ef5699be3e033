// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_CONFINE_H
#define RTL_DAEMON_CONFINE_H

/*
  Files named over OSC stay inside their directory (the record directory,
  the state directory): no absolute path, no "..", no symlink leading out.
  The letters are checked first, for a clear reason; the kernel then
  resolves the name beneath the directory's descriptor (openat2 with
  RESOLVE_BENEATH), so a symlink planted later cannot lead out either.
  Any non-RT thread.
*/

#include <stddef.h>

/// NULL if `name` stays inside its directory by its letters, else why.
const char*
rtl_confine_check(const char* name);

/**
   openat(dir_fd, name, flags, mode) resolved beneath `dir_fd` only.
   Returns the descriptor, or -1 with errno (EXDEV or ELOOP for a path
   that leads out).  On kernels without openat2 only names without a
   directory part are allowed, opened with O_NOFOLLOW.
*/
int
rtl_confine_open(int dir_fd, const char* name, int flags, unsigned mode);

/// Words for an errno of rtl_confine_open(), as /error gives them.
const char*
rtl_confine_error(int err);

#endif // RTL_DAEMON_CONFINE_H
