#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Malformed packets (random bytes, broken type tags, truncated arguments,
# bundles with lying sizes, empty and oversized datagrams) do not take the
# daemon down: it still answers /ping and serves state afterwards.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 2

expect_eq "$(osc /ping)" "/pong" "/ping before"
raw=(
  ""                                   # empty datagram
  "00"                                 # one zero byte
  "2f"                                 # "/" unterminated
  "2f70696e67"                         # "/ping" unterminated
  "2f70696e6700000000"                 # "/ping" no type tag string, odd size
  "2f70696e670000002c"                 # type tag string unterminated
  "2f63682f312f6761696e00002c660000"   # /ch/1/gain ,f with no float
  "2f63682f312f6761696e00002c730000"   # /ch/1/gain ,s with no string
  "2f63682f312f6761696e00002c7300004142434400" # string without padding
  "2f67657400000000 2c730000 41414141"  # /get ,s with an unterminated string
  "2f676574000000002c620000ffffffff"   # /get ,b with a negative blob size
  "2362756e646c6500"                   # "#bundle" alone
  "2362756e646c650000000000000000017fffffff2f6368" # bundle element size 2^31-1
  "2362756e646c6500000000000000000100000004ffffffff" # element of 4 junk bytes
  "2362756e646c6500000000000000000100000010"  # element size past the end
  "2c2c2c2c"                            # no path
  "41424344"                            # not OSC
)
for r in "${raw[@]}"; do
  osc -n 0 -t 50 @raw "$r" >/dev/null 2>&1
done
expect_eq "$(osc /ping)" "/pong" "/ping after crafted packets"
pass "crafted malformed packets"

# A datagram as large as UDP allows.
big=$(head -c 60000 /dev/zero | od -An -v -tx1 | tr -d ' \n' | sed 's/^00/2f/')
osc -n 0 -t 50 @raw "$big" >/dev/null 2>&1
expect_eq "$(osc /ping)" "/pong" "/ping after a 60000-byte datagram"

for seed in 1 2 3 4 5; do
  osc -n 0 -t 100 -S "$seed" @garbage 400 >/dev/null 2>&1
  # Replies to the garbage may still be on their way to this port (a new
  # client can get the same one): wait for the /pong among them.
  osc -u /pong /ping | grep -qx /pong || fail "no /pong after 400 random packets (seed $seed)"
done
pass "2000 random packets"

set_ok /ch/1/gain f -5
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -5" "state after the garbage"
kill -0 "$DAEMON_PID" || fail "daemon died"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status after the garbage"
pass "still serving and exits cleanly"
