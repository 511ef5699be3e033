// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TESTS_TOOLS_CONNECT_H
#define RTL_TESTS_TOOLS_CONNECT_H

#include <jack/jack.h>

#include <errno.h>

/*
  jack_connect() for the test tools: a connection that is there already
  is what was asked for.  The daemon makes the connections of a client of
  the same name again after a server restart, so a tool started anew may
  find its own made before it asks.
*/
static inline int
rtl_tool_connect(jack_client_t* const client,
                 const char* const    source,
                 const char* const    destination)
{
  const int err = jack_connect(client, source, destination);
  return err == EEXIST ? 0 : err;
}

#endif // RTL_TESTS_TOOLS_CONNECT_H
