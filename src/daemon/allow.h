// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_ALLOW_H
#define RTL_DAEMON_ALLOW_H

/*
  The senders the OSC sockets take packets from (--osc-allow ADDR[/PREFIX],
  repeatable).  With no entry every sender is taken.  A packet from any
  other sender is dropped and counted, and never answered: a reply, even
  an /error, would let a forged source address aim the daemon's traffic
  at someone else.  An IPv4 entry also matches an IPv4-mapped IPv6 sender
  (::ffff:a.b.c.d).
*/

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/// Entries --osc-allow takes at most.
#define RTL_ALLOW_MAX 16U

/// One entry: senders whose address matches the first `prefix` bits.
typedef struct {
  int      family;   ///< AF_INET or AF_INET6
  unsigned prefix;   ///< Bits that must match: 0..32 or 0..128
  uint8_t  addr[16]; ///< Network byte order; 4 bytes for AF_INET
} RtlAllow;

/**
   Parse "ADDR" or "ADDR/PREFIX" (an IPv4 or IPv6 address in numeric form;
   without a prefix, that one address) into `allow`.  Returns false, with
   `allow` unspecified, for anything else.  Any thread.
*/
bool
rtl_allow_parse(const char* text, RtlAllow* allow);

/**
   Whether `sender` (an AF_INET or AF_INET6 address) may talk to the
   daemon: true if `n` is 0 or an entry of `list` matches.  Any thread;
   RT-safe (no allocation, no system call).
*/
bool
rtl_allow_match(const RtlAllow*        list,
                unsigned               n,
                const struct sockaddr* sender);

/**
   Whether `addr` (AF_INET or AF_INET6) is a loopback address (127.0.0.0/8,
   ::1, or ::ffff:127.x.y.z), which only this machine can send to.  Any
   thread.
*/
bool
rtl_allow_is_loopback(const struct sockaddr* addr);

#endif // RTL_DAEMON_ALLOW_H
