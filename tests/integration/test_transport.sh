#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Transport and click: with a fresh transport, /transport/start time-tagged
# for frame F puts the first click at F and the next ones exactly 60/bpm
# seconds apart (frame-exact); /transport/stop silences the click port;
# a tempo change while running changes the spacing.  Trials during which the
# server had an xrun are retried (a missed cycle shifts captured frames).
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"
start_jackd
start_daemon -i 1

# The click is a short burst: an onset is the first non-zero sample after at
# least 1000 silent ones.
xruns_of() { echo "$1" | awk '{ for (i = 1; i < NF; i++) if ($i == "xruns") print $(i + 1) }'; }

ok=0
# 300 bpm keeps the capture short (0.2 s lead + 0.45 s for three clicks):
# fewer xruns to void it.
for attempt in $(seq 16); do
  set_ok /transport/stop /transport/reset /transport/bpm f 300
  out=$(probe -C "$DAEMON_NAME:click" -w 0.3 -T 1e-9 -W 0.45 -o 1000 -p "$OSC_PORT" --timed=0.2 /transport/start) ||
    fail "rtl-probe: $out"
  printf '%s\n' "$out" | sed 's/^/#   /'
  line=$(printf '%s\n' "$out" | grep '^timed ')
  if [ "$(disturbed "$line")" != 0 ]; then
    log "attempt $attempt: xruns during the trial, excluded"
    continue
  fi
  set -- $line
  expected=$4
  [ "$6" != none ] || fail "no click after /transport/start"
  # A burst may begin with an exact zero (a sine at phase 0): the first
  # non-zero sample is then F + 1.
  fcheck "e == 0 || e == 1" "first click at frame $6, /transport/start was tagged for $expected" -v e="$8"
  set -- $(printf '%s\n' "$out" | grep '^onsets ')
  shift 2
  [ $# -ge 3 ] || fail "expected 3 clicks in 0.45 s at 300 bpm, got $#: $*"
  first=$1
  i=0
  for o in "$@"; do
    expect_eq "$((o - first))" "$((i * JACK_RATE / 5))" "click $((i + 1)) relative to the first at 300 bpm"
    i=$((i + 1))
  done
  ok=1
  break
done
[ $ok = 1 ] || fail "every attempt had xruns: the server is too loaded to measure"
pass "first click on the start frame, then every $((JACK_RATE / 5)) frames at 300 bpm"

# Tempo change while running: 150 bpm is 19200 frames at 48 kHz.
set_ok /transport/bpm f 150
clean=0
for attempt in $(seq 16); do
  out=$(probe -C "$DAEMON_NAME:click" -w 1.0 -S 0.85 -T 1e-9 -o 1000) || fail "rtl-probe: $out"
  if [ "$(kv "$out" start_frame "$JUDGE_BY")" != 0 ]; then
    log "attempt $attempt: xruns during the capture, excluded"
    continue
  fi
  set -- $(printf '%s\n' "$out" | grep '^onsets ')
  shift 2
  [ $# -ge 2 ] || fail "expected 2 clicks in 0.85 s at 150 bpm, got $#: $*"
  prev=
  for o in "$@"; do
    [ -z "$prev" ] || expect_eq "$((o - prev))" "$((JACK_RATE * 60 / 150))" "click spacing at 150 bpm ($*)"
    prev=$o
  done
  clean=1
  break
done
[ $clean = 1 ] || fail "every capture had xruns: the server is too loaded to measure"
pass "150 bpm: clicks every $((JACK_RATE * 60 / 150)) frames"

set_ok /transport/stop
out=$(probe -C "$DAEMON_NAME:click" -w 0.3 -S 1.5)
expect_eq "$(level "$out" click peak)" 0.000000 "click peak after /transport/stop"
set_ok /transport/start
out=$(probe -C "$DAEMON_NAME:click" -w 0.3 -S 1.0)
fcheck "p > 0.1" "no click after /transport/start again (peak $(level "$out" click peak))" -v p="$(level "$out" click peak)"
set_ok /transport/pause
out=$(probe -C "$DAEMON_NAME:click" -w 0.3 -S 1.5)
expect_eq "$(level "$out" click peak)" 0.000000 "click peak while paused"
pass "stop and pause silence the click"
