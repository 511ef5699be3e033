#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Timing.  A bundle time-tagged for a future moment changes the output at
# exactly the frame the tag names (0 frames error), measured by rtl-probe on
# a DC signal through the daemon.  An untimed command applies at the start
# of the next period: rtl-probe sends it just after a cycle starting at frame
# S (which the daemon has already processed), so the change lands at S + P
# when the daemon's OSC and control threads hand it over within the rest of
# that period, or at S + 2P with one period of scheduling slack.  The bound
# checked is P <= delay <= 2P; anything later means the non-RT path took
# more than a period.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"

# Each trial's line ends "xruns X period P rate R".  A trial during which the
# server reported an xrun measured the server's glitch (a missed cycle shifts
# the captured frames by a period), not the daemon, so it is reported and
# excluded; a test needs MIN_CLEAN clean trials and every clean one must pass.
MIN_CLEAN=2
TRIAL_RUNS=4

TOGGLES=(/ch/1/gain f -20 /ch/1/gain f 0 /ch/1/mute i 1 /ch/1/mute i 0 /master/gain f -6
  /master/gain f 0)

for cfg in "48000 256" "44100 512"; do
  set -- $cfg
  start_jackd "$1" "$2"
  start_daemon -i 1
  set_ok /ch/1/gain f 0 /ch/1/pan f 0 /master/gain f 0
  probe_args=(-P "$DAEMON_NAME:in_1=dc:0.5" -C "$DAEMON_NAME:out_L" -w 0.3 -T 1e-6)
  # Direct mode adds no latency: a step made at frame F on in_1 is on out_L
  # at frame F.
  run_trials step "v == 0" "input step through the daemon" "${probe_args[@]}" --step=0.1 -W 0.1 -n 4
  pass "zero added latency at $1 Hz, period $2"
  run_trials timed "v == 0" "timed bundle" "${probe_args[@]}" -p "$OSC_PORT" --timed=0.5 -W 0.1 "${TOGGLES[@]}"
  pass "timed bundles: exact frame at $1 Hz, period $2"
  run_trials untimed "v >= p && v <= 2 * p" "untimed command" "${probe_args[@]}" -p "$OSC_PORT" --untimed -W 0.2 "${TOGGLES[@]}"
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
