#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Timing.  A bundle time-tagged for a future moment changes the output at
# exactly the frame the tag names (0 frames error), measured by rtl-probe on
# a DC signal through the daemon.  An untimed command lands at the start of
# the next period after it arrives: at most one period after it was sent,
# plus at most one period of scheduling slack for the OSC thread and the
# control path, so the bound checked is delay <= 2 periods.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"

timed_trials() { # MESSAGES...
  local out line n=0
  out=$(probe -P "$DAEMON_NAME:in_1=dc:0.5" -C "$DAEMON_NAME:out_L" -w 0.3 -T 1e-4 \
    -p "$OSC_PORT" --timed=0.5 "$@") || fail "rtl-probe --timed failed: $out"
  printf '%s\n' "$out" | sed 's/^/#   /'
  while read -r line; do
    n=$((n + 1))
    set -- $line
    [ "$6" != none ] || fail "timed trial $2: the output never changed"
    expect_eq "$8" 0 "timed trial $2: observed frame $6 - expected frame $4"
  done < <(printf '%s\n' "$out" | grep '^timed ')
  [ $n -gt 0 ] || fail "no timed trials ran: $out"
}

untimed_trials() { # MESSAGES...
  local out line n=0 period
  out=$(probe -P "$DAEMON_NAME:in_1=dc:0.5" -C "$DAEMON_NAME:out_L" -w 0.3 -T 1e-4 \
    -p "$OSC_PORT" --untimed "$@") || fail "rtl-probe --untimed failed: $out"
  printf '%s\n' "$out" | sed 's/^/#   /'
  while read -r line; do
    n=$((n + 1))
    set -- $line
    [ "$6" != none ] || fail "untimed trial $2: the output never changed"
    period=${10}
    fcheck "d > 0 && d <= 2 * p" "untimed trial $2: delay $8 frames, bound 2 periods = $((2 * period))" \
      -v d="$8" -v p="$period"
  done < <(printf '%s\n' "$out" | grep '^untimed ')
  [ $n -gt 0 ] || fail "no untimed trials ran: $out"
}

for cfg in "48000 256" "44100 128"; do
  set -- $cfg
  start_jackd "$1" "$2"
  start_daemon -i 1
  set_ok /ch/1/gain f 0 /ch/1/pan f 0 /master/gain f 0
  timed_trials /ch/1/gain f -20 /ch/1/gain f 0 /ch/1/mute i 1 /ch/1/mute i 0 /master/gain f -6
  pass "timed bundles: exact frame at $1 Hz, period $2"
  untimed_trials /ch/1/gain f -20 /ch/1/gain f 0 /ch/1/mute i 1 /ch/1/mute i 0
  pass "untimed commands: within 2 periods at $1 Hz, period $2"
  stop_daemon TERM
  stop_pid "$JACKD_PID"
done

# Immediate and past time tags apply (at once), like plain messages.
start_jackd
start_daemon -i 1
set_ok @bundle now /ch/1/gain f -3 @end
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "bundle with an immediate time tag"
set_ok @bundle -2 /ch/1/gain f -4 /ch/1/pan f 0.5 @end
expect_eq "$(get /ch/1/gain) $(get /ch/1/pan)" "/ch/1/gain f -4 /ch/1/pan f 0.5" "bundle time-tagged 2 s in the past"
# A future bundle is not applied early: /get before its time shows the old
# value, after it the new one.
out=$(osc -n 0 -t 5000 @bundle +1.5 /ch/1/gain f -9 @end @listen 0.3 /get s /ch/1/gain @listen 2 /get s /ch/1/gain @listen 0.3)
expect_eq "$(printf '%s\n' "$out" | grep '^/ch/1/gain' | tr '\n' ' ')" "/ch/1/gain f -4 /ch/1/gain f -9 " \
  "/get before and after a bundle 1.5 s ahead"
pass "immediate, past and future time tags"
