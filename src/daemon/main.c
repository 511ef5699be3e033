// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "daemon.h"
#include "log.h"
#include "options.h"

#include <stdio.h>

int
main(int argc, char** argv)
{
  RtlOptions opts;
  switch (rtl_options_parse(argc, argv, &opts)) {
  case RTL_OPTIONS_RUN:
    break;
  case RTL_OPTIONS_EXIT:
    return 0;
  case RTL_OPTIONS_USAGE:
    return 2;
  case RTL_OPTIONS_UNSUP:
    return 1;
  }

  rtl_daemon_block_signals();
  rtl_daemon_lock_memory();
  char            err[256] = "";
  RtlDaemon*      daemon   = NULL;
  const RtlStatus st = rtl_daemon_open(NULL, &opts, &daemon, err, sizeof(err));
  if (st == RTL_BAD_ARG) {
    fprintf(stderr, "rtlane: %s\nTry 'rtlane --help'.\n", err);
    return 2;
  }
  if (st) {
    rtl_log("%s", err);
    return 1;
  }
  rtl_daemon_run(daemon);
  rtl_daemon_close(daemon);
  return 0;
}
