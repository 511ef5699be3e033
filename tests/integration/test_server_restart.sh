#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# The JACK server going away is survived: the daemon keeps its OSC server and
# its state, and when a server of the same name is back it reconnects (its
# ports reappear and audio flows again).  DESIGN.md, reliability rules.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"
start_jackd
start_daemon -i 2
set_ok /ch/1/gain f -7 /ch/2/pan f 0.3

stop_pid "$JACKD_PID"
log "jackd $JACK_SERVER stopped"
sleep 1
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited when the JACK server went away: $(cat "$DAEMON_ERR")"
expect_eq "$(osc /ping)" "/pong" "/ping with the server gone"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -7" "state kept with the server gone"
set_ok /ch/1/gain f -8
pass "survives the server going away (OSC and state alive)"

# The same server name again.
JACK_SERVER_SAVED=$JACK_SERVER
restart_jackd
t0=$(date +%s)
wait_ports -s "$JACK_SERVER_SAVED" "$DAEMON_NAME:out_L" >/dev/null 2>&1 ||
  fail "the daemon's ports did not come back within 15 s of the server's return"
log "ports back after about $(($(date +%s) - t0)) s"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -8" "state after reconnecting"
set_ok /ch/1/gain f 0 /ch/1/pan f 0 /master/gain f 0
out=$(capture_levels "$DAEMON_NAME:in_1=sine:1000:0.5" -- out_L)
near "$(level "$out" out_L rms_db)" -12.0412 0.1 "out_L after reconnecting"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
pass "reconnects when the server is back; audio flows"
