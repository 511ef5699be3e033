#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# SIGINT and SIGTERM: the daemon exits 0 promptly (contract: within a
# second; the wait allows 3 s so a loaded machine cannot flake, and the
# measured time is logged), with audio and subscribers active, and leaves no
# ports behind.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"
start_jackd

for sig in INT TERM INT TERM; do
  start_daemon -i 2
  start_player "$DAEMON_NAME:in_1=sine:1000:0.5"
  timeout 30 "$RTL_OSC" -p "$OSC_PORT" -n 0 -q /subscribe si meters 100 @listen 10 >/dev/null 2>&1 &
  sub=$!
  PIDS+=("$sub")
  set_ok /transport/start /ch/1/gain f -3
  stop_daemon "$sig"
  log "SIG$sig: exit status $STOP_STATUS after $STOP_SECONDS s"
  expect_eq "$STOP_STATUS" 0 "exit status after SIG$sig (124: still running after 3 s)"
  if jack_lsp -s "$JACK_SERVER" | grep -q "^$DAEMON_NAME:"; then
    fail "ports of $DAEMON_NAME remain after SIG$sig"
  fi
  stop_player
  stop_pid "$sub"
  pass "SIG$sig: exit 0 in $STOP_SECONDS s"
done

# Idle daemon (no clients, no subscribers).
start_daemon
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "idle daemon, exit status after SIGTERM"
log "idle SIGTERM: $STOP_SECONDS s"
pass "idle SIGTERM: exit 0 in $STOP_SECONDS s"
