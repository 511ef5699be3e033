// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_CTL_COMMANDS_H
#define RTL_CTL_COMMANDS_H

/*
  rtlane-ctl's commands, each a short conversation with the daemon:
  requests, then the replies it waits for (commands.c), or a subscription
  followed until Ctrl-C (watch.c: watch and meters).
*/

#include "client.h"

typedef RtlCtlExit (*RtlCtlRun)(RtlCtlClient* c, int argc, char** argv);

typedef struct {
  const char* name;
  const char* args;     ///< Its arguments, for the usage line
  const char* summary;  ///< What it does, for --help
  int         min_args; ///< Arguments after the name
  int         max_args; ///< -1: any number
  RtlCtlRun   run;
} RtlCtlCommand;

/// The command called `name`, or NULL.
const RtlCtlCommand*
rtl_ctl_command(const char* name);

/// The i-th command, or NULL after the last.
const RtlCtlCommand*
rtl_ctl_command_at(unsigned i);

RtlCtlExit
rtl_ctl_watch(RtlCtlClient* c, int argc, char** argv);

RtlCtlExit
rtl_ctl_meters(RtlCtlClient* c, int argc, char** argv);

#endif // RTL_CTL_COMMANDS_H
