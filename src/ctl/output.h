// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_CTL_OUTPUT_H
#define RTL_CTL_OUTPUT_H

/*
  How replies are printed: readable values, and --json's one object per
  reply, {"path":"/get","types":"f","args":[-6.5]}.  Numbers are printed
  with the fewest digits that read back as the same float, so -6.5 stays
  -6.5; JSON has no infinities, so -inf, inf and nan become those strings.
*/

#include "client.h"

#include <stddef.h>
#include <stdio.h>

/// One argument as text: a number, the string itself, true, false, nil.
void
rtl_ctl_format_arg(char* buf, size_t size, const RtlCtlArg* arg);

/// The arguments of `reply` from index `from` on, separated by spaces.
void
rtl_ctl_print_args(FILE* out, const RtlCtlReply* reply, int from);

/// `reply` as one line of JSON.
void
rtl_ctl_print_json(FILE* out, const RtlCtlReply* reply);

#endif // RTL_CTL_OUTPUT_H
