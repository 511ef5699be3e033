#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# --osc-tcp: the same address space over TCP (replies on the connection),
# alongside UDP; a subscriber that disconnects without unsubscribing and a
# connection that sends a broken stream do not hurt the daemon.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 2 --osc-tcp
grep -w ready "$DAEMON_ERR" | grep -q tcp || fail "ready line does not mention tcp: $(grep -w ready "$DAEMON_ERR")"
bound tcp "$OSC_PORT" || fail "nothing listens on TCP port $OSC_PORT"
bound udp "$OSC_PORT" || fail "nothing is bound to UDP port $OSC_PORT"

expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP"
out=$(osc -T -n 0 /ch/1/gain f -5 /sync i 3 @wait "/synced i 3" /get s /ch/1/gain @listen 0.2)
expect_eq "$(printf '%s\n' "$out" | tr '\n' ' ')" "/synced i 3 /ch/1/gain f -5 " "set, /sync, /get over TCP"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -5" "/get over UDP after a TCP set"
out=$(osc -T -n 1 /ch/9/gain f 0)
expect_error "$out" /ch/9/gain "unknown channel over TCP"
out=$(osc -T -n 0 /subscribe si meters 20 @listen 1 /unsubscribe s meters)
n=$(printf '%s\n' "$out" | grep -c '^/meters ffff ')
fcheck "n >= 10 && n <= 30" "$n /meters over TCP in 1 s at 20 Hz" -v n="$n"
pass "requests, errors and subscriptions over TCP"

# Subscribers that go away without unsubscribing.
for i in 1 2 3; do
  osc -T -n 0 /subscribe si meters 100 /subscribe s state @listen 0.2 >/dev/null
done
osc -T -n 0 /ch/1/gain f -6 /sync i 4 @wait "/synced i 4" >/dev/null
sleep 0.5
expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP after subscribers vanished"
expect_eq "$(osc /ping)" "/pong" "/ping over UDP after subscribers vanished"
pass "vanished TCP subscribers"

# Broken streams: a huge length prefix, a zero length, garbage, a
# connection closed halfway through a message.
send_tcp() { # PRINTF_FORMAT
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; sleep 0.2; exec 3>&-' _ "$OSC_PORT" "$1" \
    >/dev/null 2>&1
}
send_tcp '\xff\xff\xff\xff/ch/1/gain\0\0,f\0\0\0\0\0\0'
send_tcp '\x7f\xff\xff\xf0garbage'
send_tcp '\0\0\0\0\0\0\0\0'
send_tcp '\0\0\0\x10/ping\0\0\0'
send_tcp '\0\0\0\x05/ping\0'
send_tcp '\0\0\0\x0c/pi\0,\0\0\0\0\0\0\x08/ping\0\0\0'
head -c 100000 /dev/urandom >"$TMP/junk"
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && cat "$2" >&3' _ "$OSC_PORT" "$TMP/junk" >/dev/null 2>&1
sleep 0.3
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died on a broken TCP stream"
expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP after broken streams"
expect_eq "$(osc /ping)" "/pong" "/ping over UDP after broken streams"
pass "broken TCP streams"

stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
